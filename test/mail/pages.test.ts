import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mailProject, smtpDialog, startMail, type RunningMail } from './harness.js'
import { sendMail } from './send.js'

// The pages as HTML over HTTP: every value of a hostile message escaped, each page under its
// strict policy, the HTML body served only with its own sandboxing policy.
let project: ReturnType<typeof mailProject>
let mail: RunningMail
const XSS = `<img src=x onerror=alert(1)>"'><script>alert(2)</script>`

beforeAll(async () => {
  project = mailProject()
  mail = await startMail(project.spec, 'mail')
  await sendMail(mail.address, mail.smtpPort, [
    {
      from: `${XSS} <evil@example.test>`,
      envelopeFrom: 'evil@example.test',
      to: ['3pg@example.test'],
      subject: `Hi ${XSS}`,
      text: `Body ${XSS}`,
      html: `<p>HTML ${XSS}</p>`,
      attachments: [
        {
          filename: `${XSS}.txt`,
          contentType: 'text/html',
          base64: Buffer.from(`<script>alert(3)</script>`).toString('base64'),
        },
      ],
    },
  ])
  // an RFC 2047 subject and sender name, raw, as a mail library writes them
  await smtpDialog(mail.address, mail.smtpPort, [
    'HELO test',
    'MAIL FROM:<app@example.test>',
    'RCPT TO:<3pg@example.test>',
    'DATA',
    'From: =?utf-8?b?w5xiZXJhcHA=?= <app@example.test>\r\nTo: 3pg@example.test\r\nSubject: =?utf-8?b?w5xuw69jb2Rl?= subject\r\n\r\nplain\r\n.\r\n',
    'QUIT',
  ])
})

afterAll(async () => {
  await mail?.stop()
  project?.remove()
})

const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

describe('mail pages', () => {
  it('the list escapes every value of a hostile message and carries the strict policy', async () => {
    const response = await fetch(`${mail.url}/`)
    expect(response.headers.get('content-security-policy')).toBe(PAGE_POLICY)
    const html = await response.text()
    expect(html).toContain(
      'Hi &#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#62;&#60;script&#62;alert(2)&#60;/script&#62;',
    )
    expect(html).not.toContain('onerror=alert(1)>')
    expect(html).not.toContain('<script>alert')
    // the only script is the page's own file
    expect([...html.matchAll(/<script[^>]*>/g)].map((match) => match[0])).toEqual(['<script src="/ui.js" defer>'])
  })

  it('decodes RFC 2047 headers on the list and message pages', async () => {
    const list = await (await fetch(`${mail.url}/`)).text()
    expect(list).toContain('Ünïcode subject')
    expect(list).toContain('&#34;Überapp&#34; &#60;app@example.test&#62;')
    const page = await (await fetch(`${mail.url}/messages/2`)).text()
    expect(page).toContain('<h1>Ünïcode subject</h1>')
    // decoded everywhere but in the source view, which shows the message as received
    const [decoded, source] = page.split('<div class="panel" id="panel-source">') as [string, string]
    expect(decoded).not.toContain('=?utf-8?b?')
    expect(decoded).toContain('<tr><th>From</th><td>&#34;Überapp&#34; &#60;app@example.test&#62;</td></tr>')
    expect(source).toContain('From: =?utf-8?b?w5xiZXJhcHA=?=')
  })

  it('the message page escapes headers, text, source and attachment names; the HTML body only appears in a sandboxed frame', async () => {
    const response = await fetch(`${mail.url}/messages/1`)
    expect(response.headers.get('content-security-policy')).toBe(PAGE_POLICY)
    const html = await response.text()
    expect(html).not.toContain('onerror=alert(1)>')
    expect(html).not.toContain('<script>alert')
    expect(html).not.toContain('<p>HTML')
    expect(html).toContain('<iframe sandbox="" src="/view/1.html"')
    expect(html).toContain(
      'download="&#60;img src=x onerror=alert(1)&#62;&#34;&#39;&#62;&#60;script&#62;alert(2)&#60;/script&#62;.txt"',
    )
    expect(html).toContain('Body &#60;img src=x onerror=alert(1)&#62;')

    const view = await fetch(`${mail.url}/view/1.html`)
    expect(view.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox;/,
    )
    expect(await view.text()).toContain('<p>HTML <img src=x onerror=alert(1)>')
    expect((await fetch(`${mail.url}/view/2.html`)).status).toBe(404)
    expect(await (await fetch(`${mail.url}/view/latest.txt`)).text()).toContain('plain')
  })

  it('an attachment opened in the browser is sandboxed and never sniffed', async () => {
    const { Attachments } = (await (await fetch(`${mail.url}/api/v1/message/1`)).json()) as {
      Attachments: { PartID: string }[]
    }
    const part = await fetch(`${mail.url}/api/v1/message/1/part/${Attachments[0]!.PartID}?dl=1`)
    expect(part.headers.get('content-type')).toBe('text/html')
    expect(part.headers.get('content-security-policy')).toContain('sandbox')
    expect(part.headers.get('x-content-type-options')).toBe('nosniff')
    expect(part.headers.get('content-disposition')).toMatch(/^attachment; filename="%3Cimg%20src%3Dx/)
  })

  it('search on the page, a message that is not there, the script and style files', async () => {
    const found = await (await fetch(`${mail.url}/?q=${encodeURIComponent('subject:ünï')}`)).text()
    expect(found).toContain('1 of 2 messages match')
    expect(found).toContain('value="subject:ünï"')
    const missing = await fetch(`${mail.url}/messages/77`)
    expect(missing.status).toBe(404)
    expect(await missing.text()).toContain('<h1>Not found</h1>')
    expect((await fetch(`${mail.url}/messages/%3Cscript%3E`)).status).toBe(404)
    const script = await fetch(`${mail.url}/ui.js`)
    expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect(await script.text()).toContain("new EventSource('/api/events')")
    expect((await fetch(`${mail.url}/ui.css`)).status).toBe(200)
    expect((await fetch(`${mail.url}/`, { method: 'POST' })).status).toBe(405)
  })
})
