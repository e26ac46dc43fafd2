import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from '../support/chromium.js'
import { mailProject, randomLoopback, startMail, type RunningMail } from './harness.js'
import { sendMail } from './send.js'

// The page in a real headless Chromium (Debian's, driven by playwright-core): list, open, the HTML
// body inside the sandboxed frame, the attachment downloaded, a script of the mail that never
// runs, remote content never fetched, search, delete, and new mail without a reload.
/** Kept after the run (gitignored); docs/mail-page.png is a copy of it. */
const ARTIFACTS = new URL('artifacts/', import.meta.url)
if (!hasChromium)
  process.stderr.write(
    `skipping the mail page's browser test: ${CHROMIUM} is absent (apt-get install chromium; .ci/run installs it)\n`,
  )

let project: ReturnType<typeof mailProject>
let mail: RunningMail
let context: BrowserContext
let page: Page
let profile: string
/** A server standing for the outside world: the mail's remote image and its script would call it. */
let outside: Server
let outsideUrl: string
const outsideRequests: string[] = []
const report = randomBytes(20_000)

describe.skipIf(!hasChromium)('mail page in headless Chromium', () => {
  beforeAll(async () => {
    outside = createServer((request, response) => {
      outsideRequests.push(request.url ?? '')
      response.end('')
    })
    const address = randomLoopback()
    await new Promise<void>((resolve) => outside.listen(0, address, resolve))
    outsideUrl = `http://${address}:${(outside.address() as { port: number }).port}`

    project = mailProject()
    mail = await startMail(project.spec, 'mail')
    await sendMail(mail.address, mail.smtpPort, [
      { from: 'Cron <cron@example.test>', to: ['ops@example.test'], subject: 'Nightly job', text: 'All backups done.' },
      {
        from: 'Shop <shop@example.test>',
        to: ['3pg@example.test'],
        subject: 'Ihre Bestellung: Übersicht',
        text: 'Your order, as text.',
        html: [
          '<h1 id="greeting">Hello from the HTML part</h1>',
          '<p>Thank you for your <b>order</b>.</p>',
          `<img id="remote" src="${outsideUrl}/remote.png" alt="remote">`,
          `<script>document.title = 'pwned'; document.body.insertAdjacentHTML('beforeend', '<p id="ran">script ran</p>'); fetch('${outsideUrl}/script'); parent.postMessage('script ran', '*')</script>`,
          `<img src="x" onerror="document.body.insertAdjacentHTML('beforeend', '<p id=ran>onerror ran</p>')">`,
        ].join('\n'),
        attachments: [{ filename: 'report.pdf', contentType: 'application/pdf', base64: report.toString('base64') }],
      },
    ])
    const { chromium } = await import('playwright-core')
    profile = mkdtempSync(path.join(tmpdir(), 'devenv-chromium-'))
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1200, height: 900 },
      args: ['--headless', ...CHROMIUM_ARGS, '--disable-sync'],
    })
    page = context.pages()[0] ?? (await context.newPage())
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await mail?.stop()
    project?.remove()
    outside?.close()
    if (profile) rmSync(profile, { recursive: true, force: true })
  })

  it('lists the messages, decoded, with no error from the page', async () => {
    const errors: string[] = []
    page.on('pageerror', (error) => errors.push(error.message))
    page.on('console', (message) => message.type() === 'error' && errors.push(message.text()))
    await page.goto(mail.url)
    const rows = page.locator('table.messages tbody tr')
    await expect.poll(() => rows.count()).toBe(2)
    expect(await rows.first().locator('a').textContent()).toBe('Ihre Bestellung: Übersicht')
    expect(await rows.first().textContent()).toContain('1 attachment')
    expect(errors).toEqual([])
    mkdirSync(ARTIFACTS, { recursive: true })
    await page.screenshot({ path: path.join(ARTIFACTS.pathname, 'mail-list.png') })
  })

  it('opens the message: its HTML inside the sandboxed frame, its script never run, nothing remote fetched', async () => {
    const messagesPosted: string[] = []
    await page.exposeFunction('recordPost', (data: string) => messagesPosted.push(data))
    await page.evaluate(() => {
      const browser = globalThis as unknown as {
        addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void
        recordPost(data: string): void
      }
      browser.addEventListener('message', (event) => browser.recordPost(String(event.data)))
    })
    await page.getByRole('link', { name: 'Ihre Bestellung: Übersicht' }).click()
    await page.waitForURL(/\/messages\/2$/)
    expect(await page.locator('h1').textContent()).toBe('Ihre Bestellung: Übersicht')
    expect(await page.locator('table.headers').first().textContent()).toContain('"Shop" <shop@example.test>')

    const frameElement = page.locator('iframe')
    expect(await frameElement.getAttribute('sandbox')).toBe('')
    const frame = page.frameLocator('iframe')
    expect(await frame.locator('#greeting').textContent()).toBe('Hello from the HTML part')
    expect(await frame.locator('b').textContent()).toBe('order')
    // time for a script, had one run, to show; the outside server would see the remote image or the script's fetch
    await page.waitForTimeout(500)
    expect(await frame.locator('#ran').count()).toBe(0)
    expect(await page.title()).toBe('Ihre Bestellung: Übersicht')
    expect(messagesPosted).toEqual([])
    expect(outsideRequests).toEqual([])

    await page.locator('label[for="view-text"]').click()
    expect(await page.locator('#panel-text pre').textContent()).toContain('Your order, as text.')
    await page.locator('label[for="view-source"]').click()
    expect(await page.locator('#panel-source pre').textContent()).toContain('Content-Type: multipart/mixed')
    await page.locator('label[for="view-html"]').click()

    await page.screenshot({ path: path.join(ARTIFACTS.pathname, 'mail-page.png'), fullPage: true })
  })

  it('lists the attachment with its size and downloads it byte for byte', async () => {
    const link = page.locator('.attachments a')
    expect(await page.locator('.attachments li').textContent()).toContain(
      `application/pdf, 19.5 KB (${report.length} bytes)`,
    )
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()])
    expect(download.suggestedFilename()).toBe('report.pdf')
    expect(readFileSync(await download.path()).equals(report)).toBe(true)
  })

  it('searches, shows new mail without a reload, and deletes', async () => {
    await page.goto(mail.url)
    await page.locator('input[name="q"]').fill('from:cron')
    await page.locator('form.search button').click()
    await page.waitForURL(/\?q=from%3Acron$/)
    expect(await page.locator('table.messages tbody tr a').allTextContents()).toEqual(['Nightly job'])

    await page.goto(mail.url)
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true))
    await sendMail(mail.address, mail.smtpPort, [
      { from: 'app@example.test', to: ['3pg@example.test'], subject: 'Arrived just now', text: 'hi' },
    ])
    await page.locator('table.messages tbody tr a', { hasText: 'Arrived just now' }).waitFor({ timeout: 5000 })
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true)

    await page.getByRole('link', { name: 'Nightly job' }).click()
    await page.locator('button[data-delete-id]').click()
    await page.waitForURL(`${mail.url}/`)
    expect(await page.locator('table.messages tbody tr a').allTextContents()).toEqual([
      'Arrived just now',
      'Ihre Bestellung: Übersicht',
    ])
  })
})
