import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { apiV1, messageFor } from './api-v1.js'
import type { MailServerConfig } from './config.js'
import { HttpError, send, sendText } from './http.js'
import { listPage, messagePage, notFoundPage } from './page.js'
import { matcher } from './search.js'
import type { MessageStore } from './store.js'

type Log = (line: string) => void

/**
 * The pages' policy: their own script and style files only, requests to this server only, frames
 * of this server only (the sandboxed HTML view). No inline script, nothing remote.
 */
const PAGE_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

/**
 * An HTML body's own policy, on top of the frame's sandbox: no script, no form, nothing fetched
 * (inline images come as data: URIs), and the document is given an opaque origin.
 */
const MAIL_HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src data:; sandbox; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

const ASSETS = new URL('../../../boxes/mail/web/', import.meta.url)
const assets = new Map([
  ['/ui.js', { type: 'text/javascript; charset=utf-8', body: readFileSync(new URL('ui.js', ASSETS)) }],
  ['/ui.css', { type: 'text/css; charset=utf-8', body: readFileSync(new URL('ui.css', ASSETS)) }],
])

/** The mail catcher's web side: pages for people, Mailpit's API v1 for clients, `devenv mail` and test suites. */
export function createWebServer(config: MailServerConfig, store: MessageStore, log: Log): Server {
  return createServer((request, response) => {
    route(request, response, config, store, log).catch((error: Error) => {
      if (response.headersSent) return response.destroy()
      if (error instanceof HttpError) {
        if (error.allow) response.setHeader('allow', error.allow.join(', '))
        return isPage(request) && error.status === 404 ? html(response, 404, notFoundPage(error.message)) : sendText(response, error.status, error.message)
      }
      log(`web: ${request.method} ${request.url}: ${error.message}`)
      sendText(response, 500, 'internal error')
    })
  })
}

async function route(request: IncomingMessage, response: ServerResponse, config: MailServerConfig, store: MessageStore, log: Log): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://mail')
  const method = request.method ?? 'GET'

  if (url.pathname.startsWith('/api/v1/')) {
    if (await apiV1(request, response, url, { config, store, log })) return
    throw new HttpError(404, '404 page not found')
  }
  if (url.pathname === '/api/events') {
    // a stream that never ends: GET only (HEAD would wait for ever)
    if (method !== 'GET') throw new HttpError(405, `method ${method} not allowed here`, ['GET'])
    return events(request, response, store)
  }

  const asset = assets.get(url.pathname)
  if (asset) return only(method, () => send(response, 200, asset.type, asset.body))

  if (url.pathname === '/') {
    return only(method, () => {
      const query = (url.searchParams.get('q') ?? '').trim()
      const all = store.list()
      html(response, 200, listPage(config, query ? all.filter(matcher(query)) : all, all.length, query))
    })
  }

  const messageMatch = /^\/messages\/([^/]+)$/.exec(url.pathname)
  if (messageMatch) {
    return only(method, async () => {
      const parsed = await messageFor(store, messageMatch[1]!)
      // opening a message reads it, as in Mailpit
      store.setRead([parsed.summary.id], true)
      html(response, 200, messagePage(parsed))
    })
  }

  // Mailpit's /view/ID.html and /view/ID.txt: the bodies alone
  const viewMatch = /^\/view\/([^/]+)\.(html|txt)$/.exec(url.pathname)
  if (viewMatch) {
    return only(method, async () => {
      const { mail } = await messageFor(store, viewMatch[1]!)
      if (viewMatch[2] === 'txt') return send(response, 200, 'text/plain; charset=utf-8', mail.text ?? '')
      if (typeof mail.html !== 'string') throw new HttpError(404, 'this message has no HTML part')
      send(response, 200, 'text/html; charset=utf-8', mail.html, { 'content-security-policy': MAIL_HTML_POLICY })
    })
  }

  throw new HttpError(404, `no such page: ${url.pathname}`)
}

/** Server-sent events: one `change` event per message received, read or deleted, so the page updates itself. */
function events(request: IncomingMessage, response: ServerResponse, store: MessageStore): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-content-type-options': 'nosniff' })
  response.write('retry: 1000\n\n')
  const listener = (change: unknown): void => {
    response.write(`event: change\ndata: ${JSON.stringify(change)}\n\n`)
  }
  store.on('change', listener)
  // a comment now and then keeps idle proxies and the browser from closing the stream
  const keepAlive = setInterval(() => response.write(': keep-alive\n\n'), 25_000)
  request.on('close', () => {
    clearInterval(keepAlive)
    store.off('change', listener)
  })
}

async function only(method: string, handle: () => unknown): Promise<void> {
  if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `method ${method} not allowed here`, ['GET', 'HEAD'])
  await handle()
}

function isPage(request: IncomingMessage): boolean {
  return !(request.url ?? '/').startsWith('/api/')
}

function html(response: ServerResponse, status: number, body: string): void {
  send(response, status, 'text/html; charset=utf-8', body, { 'content-security-policy': PAGE_POLICY })
}
