import type { IncomingMessage, ServerResponse } from 'node:http'
import type { MailServerConfig } from './config.js'
import { HttpError, readJsonBody, send, sendJson, sendText, startLimit } from './http.js'
import { findPart, headers, message, messagesSummary } from './mailpit.js'
import { matcher } from './search.js'
import { isMessageId, type MessageStore, type ParsedMessage } from './store.js'

type Log = (line: string) => void

const ALLOWED = new Map([
  ['info', ['GET']],
  ['webui', ['GET']],
  ['messages', ['GET', 'PUT', 'DELETE']],
  ['search', ['GET', 'DELETE']],
])

/** The version devenv's mail box answers in /api/v1/info: its own, marked as devenv's. */
const VERSION = 'devenv-mail-1'

/**
 * Mailpit's REST API v1, the parts test suites and clients use (docs/mail.md has the table).
 * Returns false for a path that is not part of it; errors are thrown as HttpError.
 */
export async function apiV1(request: IncomingMessage, response: ServerResponse, url: URL, context: { config: MailServerConfig; store: MessageStore; log: Log }): Promise<boolean> {
  const { store, log } = context
  const method = request.method ?? 'GET'
  const parts = url.pathname.split('/').filter(Boolean).slice(2)
  const route = `${method} ${parts[0] ?? ''}`

  if (parts.length === 1) {
    switch (route) {
      case 'GET info':
        return done(() => sendJson(response, 200, info(context.config, store)))
      case 'GET webui':
        return done(() => sendJson(response, 200, webui(context.config)))
      case 'GET messages': {
        const { start, limit } = startLimit(url)
        return done(() => sendJson(response, 200, messagesSummary(store, store.list(), start, limit)))
      }
      case 'PUT messages': {
        const body = (await readJsonBody(request)) as { IDs?: unknown; Read?: unknown; Search?: unknown } | undefined
        // Mailpit refuses an empty body here (its JSON decoder's EOF); `{}` marks every message unread
        if (body === undefined) throw new HttpError(400, 'EOF')
        const ids = stringList(body?.IDs, 'IDs')
        const search = typeof body?.Search === 'string' ? body.Search.trim() : ''
        if (ids.length && search) throw new HttpError(400, 'You may specify either IDs or a search query, not both')
        const targets = search ? store.list().filter(matcher(search)).map((summary) => summary.id) : ids.length ? ids : store.list().map((summary) => summary.id)
        store.setRead(targets, body?.Read === true)
        return done(() => sendText(response, 200, 'ok'))
      }
      case 'DELETE messages': {
        // no body deletes everything, as in Mailpit; a body that is not JSON is refused (Mailpit would delete everything)
        const body = (await readJsonBody(request)) as { IDs?: unknown } | undefined
        const ids = stringList(body?.IDs, 'IDs')
        const deleted = store.delete(ids.length ? ids : undefined)
        // the ids are the client's: counted, never written into the log
        log(ids.length ? `deleted ${deleted} of ${ids.length} message(s) named` : `deleted all messages (${deleted})`)
        return done(() => sendText(response, 200, 'ok'))
      }
      case 'GET search':
      case 'DELETE search': {
        const query = (url.searchParams.get('query') ?? '').trim()
        if (!query) throw new HttpError(400, 'Error: no search query')
        const matching = store.list().filter(matcher(query))
        if (method === 'GET') {
          const { start, limit } = startLimit(url)
          return done(() => sendJson(response, 200, messagesSummary(store, matching, start, limit)))
        }
        const deleted = store.delete(matching.map((summary) => summary.id))
        log(`deleted ${deleted} message(s) matching ${JSON.stringify(query.slice(0, 100))}`)
        return done(() => sendText(response, 200, 'ok'))
      }
    }
    const allowed = ALLOWED.get(parts[0]!)
    if (allowed) throw new HttpError(405, `method ${method} not allowed here`, allowed)
    return false
  }

  if (parts[0] !== 'message' || parts.length < 2 || parts.length > 4) return false
  if (method !== 'GET') throw new HttpError(405, `method ${method} not allowed here`, ['GET'])
  const parsed = await messageFor(store, parts[1]!)
  const view = parts.slice(2).join('/')
  if (view === '') {
    store.setRead([parsed.summary.id], true)
    return done(() => sendJson(response, 200, message({ ...parsed, summary: store.get(parsed.summary.id) ?? parsed.summary })))
  }
  if (view === 'headers') return done(() => sendJson(response, 200, headers(parsed.raw)))
  if (view === 'raw') {
    const download: Record<string, string> = url.searchParams.get('dl') === '1' ? { 'content-disposition': `attachment; filename="${parsed.summary.id}.eml"` } : {}
    return done(() => send(response, 200, 'text/plain; charset=utf-8', parsed.raw, download))
  }
  if (parts[2] === 'part' && parts[3]) {
    const part = findPart(parsed.mail, parts[3])
    if (!part) throw new HttpError(404, '404 page not found')
    const name = encodeURIComponent(part.filename || (part.contentId ?? '').replace(/^<|>$/g, '') || `part-${parts[3]}`)
    // ?dl=1 (the page's download links) asks for a download; Mailpit's own answer is inline
    const disposition = url.searchParams.get('dl') === '1' ? 'attachment' : 'inline'
    return done(() =>
      send(response, 200, part.contentType || 'application/octet-stream', part.content, {
        'content-disposition': `${disposition}; filename="${name}"; filename*=UTF-8''${name}`,
        // an attachment opened in the browser is never a page of this origin that could run
        'content-security-policy': "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox",
      }),
    )
  }
  return false
}

/** A message by id or `latest` (the newest); 404 as Mailpit answers it. */
export async function messageFor(store: MessageStore, id: string): Promise<ParsedMessage> {
  const resolved = id === 'latest' ? store.latestId() : id
  if (!resolved) throw new HttpError(404, 'Message not found')
  const parsed = isMessageId(resolved) ? await store.parse(resolved) : undefined
  if (!parsed) throw new HttpError(404, '404 page not found')
  return parsed
}

function done(answer: () => void): true {
  answer()
  return true
}

function stringList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw new HttpError(400, `${name} must be an array of message ids`)
  return value as string[]
}

function info(config: MailServerConfig, store: MessageStore): unknown {
  return {
    Version: VERSION,
    LatestVersion: '',
    Database: config.messagesDir,
    DatabaseSize: store.diskBytes(),
    Messages: store.list().length,
    Unread: store.unreadCount(),
    Tags: {},
    RuntimeStats: {
      Uptime: Math.floor((Date.now() - store.runtime.startedAt) / 1000),
      Memory: process.memoryUsage().rss,
      MessagesDeleted: store.runtime.deleted,
      SMTPAccepted: store.runtime.accepted,
      SMTPAcceptedSize: store.runtime.acceptedBytes,
      SMTPRejected: store.runtime.rejected,
      SMTPIgnored: 0,
    },
  }
}

function webui(config: MailServerConfig): unknown {
  return {
    Label: config.hostname,
    MessageRelay: { Enabled: false, SMTPServer: '', ReturnPath: '', AllowedRecipients: '', BlockedRecipients: '', OverrideFrom: '', PreserveMessageIDs: false },
    SpamAssassin: false,
    ChaosEnabled: false,
    DuplicatesIgnored: false,
    HideDeleteAllButton: false,
  }
}
