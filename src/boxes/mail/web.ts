import { createReadStream } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { MailServerConfig } from './config.js'
import { isMessageId, type MessageStore, type MessageSummary } from './store.js'

type Log = (line: string) => void

/** The mail catcher's web side: a page for people, a JSON API for `devenv mail` and test suites. */
export function createWebServer(config: MailServerConfig, store: MessageStore, log: Log): Server {
  return createServer((request, response) => {
    route(request, response, config, store, log).catch((error: Error) => {
      log(`web: ${request.method} ${request.url}: ${error.message}`)
      if (!response.headersSent) json(response, 500, { error: 'internal error' })
      else response.destroy()
    })
  })
}

async function route(request: IncomingMessage, response: ServerResponse, config: MailServerConfig, store: MessageStore, log: Log): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://mail')
  const method = request.method ?? 'GET'
  const parts = url.pathname.split('/').filter(Boolean)

  if (url.pathname === '/') return only(method, ['GET'], response, () => html(response, 200, listPage(config, store.list())))

  if (parts[0] === 'messages' && parts.length === 2) {
    const id = parts[1]!
    return only(method, ['GET'], response, async () => {
      const message = isMessageId(id) ? await store.parse(id) : undefined
      if (!message) return html(response, 404, page('Not found', `<p>No message ${escape(id)}.</p><p><a href="/">All messages</a></p>`))
      html(response, 200, messagePage(message))
    })
  }

  if (parts[0] !== 'api' || parts[1] !== 'messages' || parts.length > 4) return json(response, 404, { error: `no such resource: ${url.pathname}` })

  if (parts.length === 2) {
    return only(method, ['GET', 'DELETE'], response, () => {
      if (method === 'GET') return json(response, 200, store.list({ ...(url.searchParams.get('to') ? { to: url.searchParams.get('to')! } : {}) }))
      const deleted = store.clear()
      log(`deleted all messages (${deleted})`)
      json(response, 200, { deleted })
    })
  }

  const id = parts[2]!
  if (!isMessageId(id) || !store.get(id)) return json(response, 404, { error: `no message ${id}` })

  if (parts.length === 4) {
    if (parts[3] !== 'raw') return json(response, 404, { error: `no such resource: ${url.pathname}` })
    return only(method, ['GET'], response, () => {
      response.writeHead(200, {
        'content-type': 'message/rfc822',
        'content-length': String(store.get(id)!.size),
        'content-disposition': `attachment; filename="message-${id}.eml"`,
      })
      createReadStream(store.rawPath(id)!).pipe(response)
    })
  }

  return only(method, ['GET', 'DELETE'], response, async () => {
    if (method === 'GET') return json(response, 200, await store.parse(id))
    store.delete(id)
    log(`deleted message ${id}`)
    json(response, 200, { deleted: 1 })
  })
}

async function only(method: string, allowed: string[], response: ServerResponse, handle: () => unknown): Promise<void> {
  if (!allowed.includes(method)) {
    response.setHeader('allow', allowed.join(', '))
    return json(response, 405, { error: `method ${method} not allowed here` })
  }
  await handle()
}

function json(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store' })
  response.end(text)
}

function html(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-length': String(Buffer.byteLength(body)),
    // message content is shown as text only; nothing in a page may run or load
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    'cache-control': 'no-store',
  })
  response.end(body)
}

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}td,th{padding:.3em .8em;text-align:left;border-bottom:1px solid #ddd}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style>
</head><body>
${body}
</body></html>
`
}

function listPage(config: MailServerConfig, messages: MessageSummary[]): string {
  const rows = messages
    .map(
      (message) =>
        `<tr><td><a href="/messages/${message.id}">${message.id}</a></td><td>${escape(message.from)}</td><td>${escape(message.to.join(', '))}</td>` +
        `<td>${escape(message.subject || '(no subject)')}</td><td>${escape(message.date)}</td><td>${message.size}</td><td><a href="/api/messages/${message.id}/raw">.eml</a></td></tr>`,
    )
    .join('\n')
  const accounts = config.accounts.length ? config.accounts.map(escape).join(', ') : 'none declared'
  return page(
    `Mail on ${config.hostname}`,
    `<h1>Mail on ${escape(config.hostname)}</h1>
<p>SMTP on ${escape(config.address)}:${config.smtpPort}. Accounts: ${accounts}. ${config.catchAll ? 'Every other recipient is caught too.' : 'Other recipients are refused.'}</p>
${messages.length ? `<table><tr><th>ID</th><th>From</th><th>To</th><th>Subject</th><th>Date</th><th>Bytes</th><th></th></tr>\n${rows}</table>` : '<p>No messages yet.</p>'}`,
  )
}

function messagePage(message: Awaited<ReturnType<MessageStore['parse']>> & object): string {
  const headers = Object.entries(message.headers)
    .map(([key, value]) => `<tr><th>${escape(key)}</th><td>${escape(value)}</td></tr>`)
    .join('\n')
  const attachments = message.attachments.map((attachment) => `<li>${escape(attachment.filename ?? '(unnamed)')} (${escape(attachment.contentType)}, ${attachment.size} bytes)</li>`).join('')
  return page(
    message.subject || `Message ${message.id}`,
    `<p><a href="/">All messages</a> · <a href="/api/messages/${message.id}/raw">download .eml</a></p>
<h1>${escape(message.subject || '(no subject)')}</h1>
<table>${headers}</table>
${attachments ? `<h2>Attachments</h2><ul>${attachments}</ul>` : ''}
<h2>Text</h2><pre>${escape(message.text ?? '(no text part)')}</pre>`,
  )
}
