import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devenv, sandbox } from '../cli/run-cli.js'
import { mailProject, startMail, writeRunningState, type RunningMail } from './harness.js'
import { sendMail } from './send.js'

// `devenv mail` through the built CLI, against a running mail box found through the state file.
let project: ReturnType<typeof mailProject>
let mail: RunningMail
const cli = (args: string[]) => devenv(['mail', ...args], { cwd: project.root, env: { NO_COLOR: '1' } })
const invoice = Buffer.from([...Array(256).keys()])

beforeAll(async () => {
  project = mailProject()
  mail = await startMail(project.spec, 'mail')
  writeRunningState(project.root, mail)
  await sendMail(mail.address, mail.smtpPort, [
    {
      from: 'App <app@example.test>',
      to: ['3pg@example.test'],
      subject: 'Your invoice',
      text: 'Invoice attached.',
      attachments: [
        { filename: 'invoice.bin', contentType: 'application/octet-stream', base64: invoice.toString('base64') },
        {
          filename: '../../escape.sh',
          contentType: 'text/plain',
          base64: Buffer.from('echo gotcha').toString('base64'),
        },
        { filename: 'dup.txt', contentType: 'text/plain', base64: Buffer.from('one').toString('base64') },
        { filename: 'dup.txt', contentType: 'text/plain', base64: Buffer.from('two').toString('base64') },
      ],
    },
    { from: 'cron@example.test', to: ['ops@example.test'], subject: 'Nightly job', text: 'done' },
  ])
})

afterAll(async () => {
  await mail?.stop()
  project?.remove()
})

describe('devenv mail', () => {
  it('list --search takes a Mailpit search; --json prints the listing', async () => {
    const found = await cli(['list', '--search', 'from:app@example.test has:attachment', '--json'])
    expect(found.exitCode).toBe(0)
    expect(JSON.parse(found.stdout).result).toEqual([
      expect.objectContaining({
        id: '1',
        subject: 'Your invoice',
        from: '"App" <app@example.test>',
        to: ['3pg@example.test'],
        attachments: 4,
        read: false,
      }),
    ])

    const table = await cli(['list', '-q', 'subject:nightly'])
    expect(table.stdout).toMatch(
      /^ID\s+DATE\s+FROM\s+TO\s+SUBJECT\s+SIZE\n2\s+\S+ \S+\s+cron@example\.test\s+ops@example\.test\s+Nightly job\s+\d+$/,
    )
    expect((await cli(['list', '--search', 'nothing-like-this'])).stdout).toBe('no messages match')
    expect(
      JSON.parse(
        (await cli(['list', '--search', 'example.test', '--to', 'ops@example.test', '--json'])).stdout,
      ).result.map((message: { id: string }) => message.id),
    ).toEqual(['2'])
  })

  it('show latest, and show --json with every attachment and the headers', async () => {
    const latest = await cli(['show', 'latest'])
    expect(latest.exitCode).toBe(0)
    expect(latest.stdout).toMatch(/^ID: +2$/m)
    const shown = JSON.parse((await cli(['show', '1', '--json'])).stdout).result as {
      attachments: { filename: string; size: number; partId: string }[]
      headers: Record<string, string[]>
    }
    expect(shown.attachments.map((attachment) => attachment.filename)).toEqual([
      'invoice.bin',
      '../../escape.sh',
      'dup.txt',
      'dup.txt',
    ])
    expect(shown.headers.Subject).toEqual(['Your invoice'])
    // reading a message marks it read, as Mailpit does
    expect(JSON.parse((await cli(['list', '--search', 'is:unread', '--json'])).stdout).result).toEqual([])
  })

  it('show --save-attachments writes each attachment byte for byte, names made safe, into the folder', async () => {
    const folder = path.join(sandbox('devenv-mail-save-'), 'attachments')
    const saved = await cli(['show', '1', '--save-attachments', folder])
    expect(saved.exitCode, saved.stderr).toBe(0)
    expect(saved.stdout).toMatch(/^Attached: +invoice\.bin \(application\/octet-stream, 256 bytes\)$/m)
    expect(saved.stdout).toContain(`Saved:    ${path.join(folder, 'invoice.bin')}`)
    expect(readdirSync(folder).sort()).toEqual(['dup (2).txt', 'dup.txt', 'escape.sh', 'invoice.bin'])
    expect(readFileSync(path.join(folder, 'invoice.bin')).equals(invoice)).toBe(true)
    expect(readFileSync(path.join(folder, 'dup (2).txt'), 'utf8')).toBe('two')
    expect(readdirSync(path.dirname(folder))).toEqual(['attachments'])

    const json = JSON.parse((await cli(['show', '1', '--save-attachments', folder, '--json'])).stdout).result as {
      saved: { path: string; filename: string }[]
    }
    expect(json.saved.map((entry) => path.basename(entry.path))).toEqual([
      'invoice.bin',
      'escape.sh',
      'dup.txt',
      'dup (2).txt',
    ])

    const file = path.join(path.dirname(folder), 'a-file')
    writeFileSync(file, '')
    const notAFolder = await cli(['show', '1', '--save-attachments', file])
    expect(notAFolder.exitCode).toBe(2)
    expect(notAFolder.stderr).toContain('is not a folder')
    expect((await cli(['show', '1', '--raw', '--save-attachments', folder])).exitCode).toBe(2)
  })

  it('clear --json, then show latest says there are none', async () => {
    expect(JSON.parse((await cli(['clear', '--json'])).stdout).result).toEqual({ deleted: 2 })
    const none = await cli(['show', 'latest', '--json'])
    expect(none.exitCode).toBe(1)
    expect(JSON.parse(none.stdout).error).toMatchObject({
      code: 'NOT_FOUND',
      message: 'mail service mail: there are no messages',
    })
    expect(JSON.parse((await cli(['list', '--json'])).stdout).result).toEqual([])
  })
})
