import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { MailpitClient } from 'mailpit-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mailProject, startMail, type RunningMail } from './harness.js'
import { sendMail } from './send.js'

// What the mail box keeps on disk across restarts: the read state, and summaries written by an
// older devenv (before read state and Mailpit's fields), rebuilt without losing the envelope.
let project: ReturnType<typeof mailProject>
let mail: RunningMail

beforeAll(async () => {
  project = mailProject()
  mail = await startMail(project.spec, 'mail')
  await sendMail(mail.address, mail.smtpPort, [
    { from: 'app@example.test', to: ['3pg@example.test'], bcc: ['hidden@example.test'], subject: 'one', text: '1' },
    { from: 'app@example.test', to: ['3pg@example.test'], subject: 'two', text: '2' },
  ])
})

afterAll(async () => {
  await mail?.stop()
  project?.remove()
})

describe('mail store on disk', () => {
  it('keeps the read state across a restart, in the summary file', async () => {
    await new MailpitClient(mail.url).setReadStatus({ IDs: ['2'], Read: true })
    const summary = JSON.parse(readFileSync(path.join(mail.dataDir, 'messages', '2.json'), 'utf8')) as {
      read: boolean
      version: number
    }
    expect(summary).toMatchObject({ read: true, version: 2 })
    expect(await mail.stop()).toBe(0)
    mail = await startMail(project.spec, 'mail', mail.address)
    const list = await new MailpitClient(mail.url).listMessages()
    expect(list.messages.map((message) => [message.ID, message.Read])).toEqual([
      ['2', true],
      ['1', false],
    ])
  })

  it("rebuilds an older devenv's summary, keeping its envelope recipients and time of arrival", async () => {
    expect(await mail.stop()).toBe(0)
    const older = {
      id: '1',
      from: 'app@example.test',
      to: ['3pg@example.test', 'hidden@example.test'],
      subject: 'one',
      date: '2025-01-12T10:00:00.000Z',
      receivedAt: '2025-01-12T10:00:01.000Z',
      size: 1,
    }
    writeFileSync(path.join(mail.dataDir, 'messages', '1.json'), JSON.stringify(older))
    mail = await startMail(project.spec, 'mail', mail.address)
    const message = await new MailpitClient(mail.url).getMessageSummary('1')
    expect(message.Bcc).toEqual([{ Name: '', Address: 'hidden@example.test' }])
    const [listed] = (await new MailpitClient(mail.url).searchMessages({ query: 'subject:one' })).messages
    expect(listed!.Created).toBe('2025-01-12T10:00:01.000Z')
    expect(JSON.parse(readFileSync(path.join(mail.dataDir, 'messages', '1.json'), 'utf8'))).toMatchObject({
      version: 2,
      receivedAt: '2025-01-12T10:00:01.000Z',
    })
  })
})
