import { randomBytes } from 'node:crypto'
import { MailpitClient } from 'mailpit-api'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mailProject, startMail, type RunningMail } from './harness.js'
import { sendMail } from './send.js'

// The real npm client of Mailpit's API (mailpit-api), as a test suite would use it, against a
// running mail box: every call below is one a suite written for Mailpit makes.
let project: ReturnType<typeof mailProject>
let mail: RunningMail
let mailpit: MailpitClient
const pdf = randomBytes(3000)

beforeAll(async () => {
  project = mailProject()
  mail = await startMail(project.spec, 'mail')
  mailpit = new MailpitClient(mail.url)
  await sendMail(mail.address, mail.smtpPort, [
    {
      from: 'App <app@example.test>',
      to: ['3pg@example.test'],
      cc: ['Ops Team <ops@example.test>'],
      bcc: ['auditor@example.test'],
      subject: 'Ünïcode welcome',
      text: 'Welcome aboard, 3pg. Your invoice is attached.',
      html: '<p>Welcome <b>aboard</b>, 3pg.</p>',
      attachments: [{ filename: 'invoice.pdf', contentType: 'application/pdf', base64: pdf.toString('base64') }],
    },
    { from: 'cron@example.test', to: ['ops@example.test'], subject: 'Nightly job', text: 'All 12 backups done.' },
  ])
})

afterAll(async () => {
  await mail?.stop()
  project?.remove()
})

describe('mailpit-api against the mail box', () => {
  it('getInfo and getConfiguration', async () => {
    const info = await mailpit.getInfo()
    expect(info).toMatchObject({ Messages: 2, Unread: 2, Tags: {} })
    expect(info.RuntimeStats.SMTPAccepted).toBe(2)
    expect(info.DatabaseSize).toBeGreaterThan(3000)
    const config = await mailpit.getConfiguration()
    expect(config).toMatchObject({ Label: 'mail.example.test', SpamAssassin: false, MessageRelay: { Enabled: false } })
  })

  it('listMessages, with paging', async () => {
    const all = await mailpit.listMessages()
    expect(all).toMatchObject({ total: 2, unread: 2, messages_count: 2, messages_unread: 2, start: 0, tags: [] })
    expect(all.messages.map((message) => message.Subject)).toEqual(['Nightly job', 'Ünïcode welcome'])
    const welcome = all.messages[1]!
    expect(welcome).toMatchObject({
      ID: '1',
      Read: false,
      From: { Name: 'App', Address: 'app@example.test' },
      To: [{ Name: '', Address: '3pg@example.test' }],
      Cc: [{ Name: 'Ops Team', Address: 'ops@example.test' }],
      // the envelope recipient no header names, as Mailpit's SMTP server adds it
      Bcc: [{ Name: '', Address: 'auditor@example.test' }],
      Attachments: 1,
    })
    expect(welcome.Snippet).toContain('Welcome aboard')
    const second = await mailpit.listMessages(1, 1)
    expect(second.start).toBe(1)
    expect(second.messages.map((message) => message.ID)).toEqual(['1'])
  })

  it('getMessageSummary (by ID and latest) marks the message read', async () => {
    const latest = await mailpit.getMessageSummary()
    expect(latest).toMatchObject({
      ID: '2',
      Subject: 'Nightly job',
      Text: expect.stringContaining('All 12 backups done.'),
      HTML: '',
    })
    const welcome = await mailpit.getMessageSummary('1')
    expect(welcome.HTML).toContain('<b>aboard</b>')
    expect(welcome.Attachments).toEqual([
      expect.objectContaining({
        FileName: 'invoice.pdf',
        ContentType: 'application/pdf',
        Size: pdf.length,
        Checksums: expect.objectContaining({ SHA256: expect.stringMatching(/^[0-9a-f]{64}$/) }),
      }),
    ])
    expect((await mailpit.getInfo()).Unread).toBe(0)
    await expect(mailpit.getMessageSummary('999')).rejects.toThrow(/404/)
  })

  it('getMessageHeaders and getMessageSource', async () => {
    const headers = await mailpit.getMessageHeaders('1')
    expect(Object.keys(headers)).toEqual([...Object.keys(headers)].sort())
    // as written, not decoded (Go's net/mail leaves RFC 2047 words alone)
    expect(headers.Subject).toEqual(['=?utf-8?b?w5xuw69jb2Rl?= welcome'])
    expect(headers.From).toEqual(['App <app@example.test>'])
    const source = await mailpit.getMessageSource('1')
    expect(source).toContain('Content-Disposition: attachment; filename="invoice.pdf"')
  })

  it('getMessageAttachment returns the attachment byte for byte', async () => {
    const { Attachments } = await mailpit.getMessageSummary('1')
    const blob = await mailpit.getMessageAttachment('1', Attachments[0]!.PartID)
    expect(blob.type).toBe('application/pdf')
    expect(Buffer.from(await blob.arrayBuffer()).equals(pdf)).toBe(true)
    await expect(mailpit.getMessageAttachment('1', '9.9')).rejects.toThrow(/404/)
  })

  it('setReadStatus by IDs, by search and for all; searchMessages with from:, to:, subject:, is:unread and words', async () => {
    expect(await mailpit.setReadStatus({ IDs: ['1'], Read: false })).toBe('ok')
    expect((await mailpit.searchMessages({ query: 'is:unread' })).messages.map((message) => message.ID)).toEqual(['1'])
    expect(await mailpit.setReadStatus({ Search: 'from:cron', Read: false })).toBe('ok')
    expect((await mailpit.searchMessages({ query: 'is:unread' })).messages_count).toBe(2)
    await mailpit.setReadStatus({ Read: true })
    expect((await mailpit.searchMessages({ query: 'is:unread' })).messages_count).toBe(0)

    const ids = async (query: string): Promise<string[]> =>
      (await mailpit.searchMessages({ query })).messages.map((message) => message.ID)
    expect(await ids('from:app@example.test')).toEqual(['1'])
    expect(await ids('to:ops@example.test')).toEqual(['2'])
    expect(await ids('subject:ünïcode')).toEqual(['1'])
    expect(await ids('subject:"nightly job"')).toEqual(['2'])
    expect(await ids('backups')).toEqual(['2'])
    expect(await ids('invoice.pdf')).toEqual(['1'])
    expect(await ids('-from:cron example.test')).toEqual(['1'])
    expect(await ids('has:attachment')).toEqual(['1'])
    expect(await ids('bcc:auditor')).toEqual(['1'])
    const result = await mailpit.searchMessages({ query: 'example.test', limit: 1 })
    expect(result).toMatchObject({ messages_count: 2, total: 2 })
    expect(result.messages).toHaveLength(1)
    await expect(mailpit.searchMessages({ query: '  ' })).rejects.toThrow(/400.*no search query/)
  })

  it('waitForMessage sees mail that arrives while it waits', async () => {
    const waiting = mailpit.waitForMessage({ query: 'subject:"Password reset"' }, { timeout: 5000, interval: 100 })
    await sendMail(mail.address, mail.smtpPort, [
      { from: 'app@example.test', to: ['3pg@example.test'], subject: 'Password reset', text: 'Use code 4711.' },
    ])
    expect((await waiting).Text).toContain('4711')
  })

  it('deleteMessages by IDs, deleteMessagesBySearch, then deleteMessages for all', async () => {
    expect(await mailpit.deleteMessages({ IDs: ['2'] })).toBe('ok')
    expect((await mailpit.listMessages()).messages.map((message) => message.ID)).toEqual(['3', '1'])
    expect(await mailpit.deleteMessagesBySearch({ query: 'subject:password' })).toBe('ok')
    expect((await mailpit.listMessages()).messages.map((message) => message.ID)).toEqual(['1'])
    expect(await mailpit.deleteMessages()).toBe('ok')
    expect(await mailpit.listMessages()).toMatchObject({ total: 0, messages: [] })
    await expect(mailpit.getMessageSummary()).rejects.toThrow(/404/)
  })
})
