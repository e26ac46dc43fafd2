import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MailClient } from '../../src/boxes/mail/client.js'
import { devenv } from '../cli/run-cli.js'
import { mailProject, python, smtpDialog, startMail, writeRunningState, type RunningMail } from './harness.js'

// Real clients on loopback: Python's smtplib sends, the JSON API, the client module and the
// built CLI read it back; raw sockets send what polite clients never do.
const SEND = `
import json, smtplib, sys
from email.message import EmailMessage
address, port = sys.argv[1], int(sys.argv[2])
results = []
with smtplib.SMTP(address, port, timeout=10) as smtp:
    features = smtp.ehlo()[1].decode()
    for recipient, subject in [('3pg@example.test', 'Welcome <b>aboard</b>'), ('someone@elsewhere.test', 'Caught anyway')]:
        message = EmailMessage()
        message['From'] = 'App <app@example.test>'
        message['To'] = recipient
        message['Subject'] = subject
        message.set_content('Hello from the app.\\nSecond line.')
        message.add_attachment(b'%PDF-1.4 fake', maintype='application', subtype='pdf', filename='invoice.pdf')
        refused = smtp.send_message(message)
        results.append({'to': recipient, 'refused': list(refused)})
print(json.dumps({'features': features, 'results': results}))
`

let project: ReturnType<typeof mailProject>
let mail: RunningMail

beforeAll(async () => {
  project = mailProject()
  mail = await startMail(project.spec, 'mail')
})

afterAll(async () => {
  await mail?.stop()
  project?.remove()
})

describe('mail box', () => {
  it('accepts mail from smtplib for a declared account and for anyone else (catch-all), and lists it', async () => {
    const sent = await python<{ features: string; results: { to: string; refused: string[] }[] }>(SEND, [
      mail.address,
      String(mail.smtpPort),
    ])
    expect(sent.features).toContain(`SIZE ${64 * 1024}`)
    expect(sent.results.every((result) => result.refused.length === 0)).toBe(true)

    const list = await new MailClient(mail.url).list()
    expect(list.map((message) => message.subject)).toEqual(['Caught anyway', 'Welcome <b>aboard</b>'])
    expect(list[1]).toMatchObject({
      id: '1',
      to: ['3pg@example.test'],
      from: '"App" <app@example.test>',
      read: false,
      attachments: 1,
    })
    expect(list[1]!.size).toBeGreaterThan(200)

    const filtered = await new MailClient(mail.url).list({ to: '3PG@example.test' })
    expect(filtered.map((message) => message.id)).toEqual(['1'])

    // each message whole, on disk, with its summary; no temporary file left behind
    const files = readdirSync(path.join(mail.dataDir, 'messages')).sort()
    expect(files).toEqual(['1.eml', '1.json', '2.eml', '2.json'])
    expect(readFileSync(path.join(mail.dataDir, 'messages', '1.eml'), 'utf8')).toContain(
      'Subject: Welcome <b>aboard</b>',
    )
    expect(mail.output()).toContain('received message 1 from app@example.test to 3pg@example.test')
  })

  it('serves a parsed message, the raw .eml, and an HTML list with escaped text', async () => {
    const parsed = (await (await fetch(`${mail.url}/api/v1/message/1`)).json()) as Record<string, unknown>
    expect(parsed).toMatchObject({ ID: '1', Subject: 'Welcome <b>aboard</b>', HTML: '' })
    expect(parsed.Text).toContain('Hello from the app.')
    expect(parsed.Attachments).toEqual([
      expect.objectContaining({ FileName: 'invoice.pdf', ContentType: 'application/pdf', Size: 13 }),
    ])
    const headers = (await (await fetch(`${mail.url}/api/v1/message/1/headers`)).json()) as Record<string, string[]>
    expect(headers.Subject).toEqual(['Welcome <b>aboard</b>'])

    const raw = await fetch(`${mail.url}/api/v1/message/1/raw`)
    expect(raw.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(await raw.text()).toBe(readFileSync(path.join(mail.dataDir, 'messages', '1.eml'), 'utf8'))

    const page = await (await fetch(`${mail.url}/`)).text()
    expect(page).toContain('Welcome &#60;b&#62;aboard&#60;/b&#62;')
    expect(page).not.toContain('<b>aboard')

    expect((await fetch(`${mail.url}/api/v1/message/99`)).status).toBe(404)
    expect((await fetch(`${mail.url}/api/v1/message/..%2F..%2Fetc%2Fpasswd`)).status).toBe(404)
    expect((await fetch(`${mail.url}/api/v1/message/1`, { method: 'POST' })).status).toBe(405)
    const wrongMethod = await fetch(`${mail.url}/api/v1/search`, { method: 'PUT' })
    expect([wrongMethod.status, wrongMethod.headers.get('allow')]).toEqual([405, 'GET, DELETE'])
    expect((await fetch(`${mail.url}/api/v1/constructor`, { method: 'POST' })).status).toBe(404)
    // devenv's own API of before is gone: Mailpit's is the one
    expect((await fetch(`${mail.url}/api/messages`)).status).toBe(404)
  })

  it('MailClient lists, shows and downloads through the JSON API', async () => {
    const client = new MailClient(mail.url)
    expect((await client.list({ to: 'someone@elsewhere.test' })).map((message) => message.id)).toEqual(['2'])
    expect((await client.show('2')).subject).toBe('Caught anyway')
    expect((await client.raw('2')).toString()).toContain('Subject: Caught anyway')
    await expect(client.show('42')).rejects.toMatchObject({ code: 'NOT_FOUND' })
    await expect(client.show('../x')).rejects.toMatchObject({ code: 'USAGE' })
    expect((await client.show('latest')).id).toBe('2')
    await expect(new MailClient('http://127.0.0.1:1').list()).rejects.toMatchObject({ code: 'SERVICE_FAILED' })
  })

  it('`devenv mail list/show/clear` find the running service through the state file', async () => {
    writeRunningState(project.root, mail)
    const list = await devenv(['mail', 'list', '--json'], { cwd: project.root })
    expect(list.exitCode).toBe(0)
    expect((JSON.parse(list.stdout).result as { id: string }[]).map((message) => message.id)).toEqual(['2', '1'])

    const table = await devenv(['mail', 'list', '--to', '3pg@example.test'], {
      cwd: project.root,
      env: { NO_COLOR: '1' },
    })
    expect(table.stdout).toMatch(/ID\s+DATE\s+FROM\s+TO\s+SUBJECT\s+SIZE/)
    expect(table.stdout).toContain('Welcome <b>aboard</b>')
    expect(table.stdout).not.toContain('Caught anyway')

    const show = await devenv(['mail', 'show', '1'], { cwd: project.root, env: { NO_COLOR: '1' } })
    expect(show.exitCode).toBe(0)
    expect(show.stdout).toContain('Hello from the app.')
    expect(show.stdout).toMatch(/^Attached: +invoice\.pdf \(application\/pdf, 13 bytes\)$/m)

    const raw = await devenv(['mail', 'show', '1', '--raw'], { cwd: project.root })
    expect(raw.stdout).toContain('Content-Disposition: attachment; filename="invoice.pdf"')

    const missing = await devenv(['mail', 'show', '77', '--json'], { cwd: project.root })
    expect(missing.exitCode).toBe(1)
    expect(JSON.parse(missing.stdout).error.code).toBe('NOT_FOUND')

    const badId = await devenv(['mail', 'show', 'abc'], { cwd: project.root })
    expect(badId.exitCode).toBe(2)
    expect(badId.stderr).toContain('"abc" is not a message id')

    const wrongService = await devenv(['mail', 'list', 'nosuch'], { cwd: project.root })
    expect(wrongService.exitCode).toBe(2)

    // strict is declared but not running: said so, with a hint
    const notRunning = await devenv(['mail', 'list', 'strict'], { cwd: project.root })
    expect(notRunning.exitCode).toBe(1)
    expect(notRunning.stderr).toContain('service strict is not running')
  })

  it('refuses oversized messages with 552, declared or streamed, and stays up', async () => {
    const declared = await smtpDialog(mail.address, mail.smtpPort, [
      'EHLO test',
      `MAIL FROM:<a@example.test> SIZE=${1024 * 1024}`,
    ])
    expect(declared).toEqual([220, 250, 552])

    const big = `Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(80) // ~80 KB, over the 64 KB limit, no SIZE declared
    const streamed = await smtpDialog(mail.address, mail.smtpPort, [
      'EHLO test',
      'MAIL FROM:<a@example.test>',
      'RCPT TO:<3pg@example.test>',
      'DATA',
      `${big}.\r\n`,
      'QUIT',
    ])
    expect(streamed).toEqual([220, 250, 250, 250, 354, 552, 221])
    expect(readdirSync(path.join(mail.dataDir, 'messages')).filter((name) => !/^\d+\.(eml|json)$/.test(name))).toEqual(
      [],
    )
    expect((await new MailClient(mail.url).list()).length).toBe(2)
  })

  it('answers malformed input with SMTP errors, survives dropped connections, and keeps serving', async () => {
    const codes = await smtpDialog(mail.address, mail.smtpPort, [
      'RCPT TO:<3pg@example.test>', // before HELO/MAIL
      'EHLO test',
      'RCPT TO:<3pg@example.test>', // before MAIL
      'MAIL FROM:<not an address>',
      'MAIL FROM:<a@example.test>',
      'RCPT TO:<nobody>',
      'BOGUS command',
      'DATA', // no valid recipient yet
      'AUTH PLAIN AGFiYwBkZWY=', // disabled: nothing to authenticate against
      '\u0000\u00ff\u0001 binary junk',
      'QUIT',
    ])
    expect(codes[0]).toBe(220)
    expect(codes.slice(1)).toEqual([
      503,
      250,
      503,
      expect.any(Number),
      250,
      expect.any(Number),
      500,
      503,
      expect.any(Number),
      500,
      221,
    ])
    for (const code of [codes[4], codes[6], codes[9]]) expect(code).toBeGreaterThanOrEqual(500)

    // a client that hangs up in the middle of DATA leaves nothing behind
    await smtpDialog(
      mail.address,
      mail.smtpPort,
      [
        'EHLO test',
        'MAIL FROM:<a@example.test>',
        'RCPT TO:<3pg@example.test>',
        'DATA',
        'Subject: cut short\r\n\r\nhalf a',
      ],
      { hangUpMidway: true },
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(mail.child.exitCode).toBeNull()
    expect(readdirSync(path.join(mail.dataDir, 'messages')).filter((name) => !/^\d+\.(eml|json)$/.test(name))).toEqual(
      [],
    )
    expect(mail.output()).toContain('Connection closed before the message was received in full')
    const after = await smtpDialog(mail.address, mail.smtpPort, [
      'HELO ok',
      'MAIL FROM:<>',
      'RCPT TO:<3pg@example.test>',
      'DATA',
      'Subject: still here\r\n\r\nok\r\n.\r\n',
      'QUIT',
    ])
    expect(after).toEqual([220, 250, 250, 250, 354, 250, 221])
    expect((await new MailClient(mail.url).list())[0]!.subject).toBe('still here')
    expect(mail.output()).not.toContain('AGFiYwBkZWY=')
  })

  it('keeps messages across a restart, rebuilding a lost summary from the .eml', async () => {
    expect(await mail.stop()).toBe(0)
    rmSync(path.join(mail.dataDir, 'messages', '1.json'))
    mail = await startMail(project.spec, 'mail', mail.address)
    const list = await new MailClient(mail.url).list()
    expect(list.map((message) => message.id)).toEqual(['3', '2', '1'])
    expect(list[2]).toMatchObject({ subject: 'Welcome <b>aboard</b>', to: ['3pg@example.test'] })
    expect(existsSync(path.join(mail.dataDir, 'messages', '1.json'))).toBe(true)

    // ids keep counting after the highest kept
    await smtpDialog(mail.address, mail.smtpPort, [
      'HELO ok',
      'MAIL FROM:<>',
      'RCPT TO:<x@example.test>',
      'DATA',
      'Subject: four\r\n\r\n.\r\n',
    ])
    expect((await new MailClient(mail.url).list())[0]!.id).toBe('4')
  })

  it('deletes one message, then all of them (also through `devenv mail clear`)', async () => {
    const client = new MailClient(mail.url)
    await client.delete('2')
    expect((await client.list()).map((message) => message.id)).toEqual(['4', '3', '1'])
    expect(existsSync(path.join(mail.dataDir, 'messages', '2.eml'))).toBe(false)
    writeRunningState(project.root, mail)
    const clear = await devenv(['mail', 'clear', '--json'], { cwd: project.root })
    expect(JSON.parse(clear.stdout).result).toEqual({ deleted: 3 })
    expect(await client.list()).toEqual([])
    expect(readdirSync(path.join(mail.dataDir, 'messages'))).toEqual([])
  })
})

describe('mail box with catch_all: false', () => {
  it('accepts the declared accounts only and answers 550 to other recipients', async () => {
    const strict = await startMail(project.spec, 'strict')
    try {
      const codes = await smtpDialog(strict.address, strict.smtpPort, [
        'EHLO test',
        'MAIL FROM:<a@example.test>',
        'RCPT TO:<stranger@example.test>',
        'RCPT TO:<OPS@example.test>',
        'DATA',
        'Subject: for ops\r\n\r\nhello\r\n.\r\n',
        'QUIT',
      ])
      expect(codes).toEqual([220, 250, 250, 550, 250, 354, 250, 221])
      const list = await new MailClient(strict.url).list()
      expect(list).toHaveLength(1)
      expect(list[0]!.to).toEqual(['OPS@example.test'])
      expect(strict.output()).toContain('refused mail for stranger@example.test')
    } finally {
      expect(await strict.stop()).toBe(0)
    }
  })
})
