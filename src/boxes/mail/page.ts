import type { ParsedMail } from 'mailparser'
import type { MailServerConfig } from './config.js'
import { message as mailpitMessage, type MailpitAttachment } from './mailpit.js'
import type { ParsedMessage } from './store.js'
import { formatAddress, type MailAddress, type StoredSummary } from './summary.js'

/**
 * The mail box's pages, rendered on the server with every value escaped. Nothing from a message
 * is ever markup of these pages: an HTML body is shown only inside a sandboxed frame
 * (/view/ID.html, its own strict policy), and the one script (/ui.js) is a file of devenv's.
 */

export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`)
}

/** Source views show this much of a message; the whole is a download away. */
const SOURCE_VIEW_BYTES = 1024 * 1024

export function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/ui.css"><script src="/ui.js" defer></script>
</head><body>
${body}
</body></html>
`
}

/** The list shows this many rows; a search finds the others. */
const LIST_ROWS = 500

export function listPage(config: MailServerConfig, messages: StoredSummary[], total: number, query: string): string {
  const rows = messages
    .slice(0, LIST_ROWS)
    .map(
      (summary) =>
        `<tr class="${summary.read ? 'read' : 'unread'}" data-id="${escape(summary.id)}"><td><a href="/messages/${escape(summary.id)}">${escape(summary.subject || '(no subject)')}</a>` +
        `<div class="snippet">${escape(summary.snippet)}</div></td><td>${escape(formatAddress(summary.from))}</td><td>${escape(recipients(summary))}</td>` +
        `<td class="meta">${summary.attachments ? `${summary.attachments} attachment${summary.attachments === 1 ? '' : 's'}` : ''}</td><td><time>${escape(when(summary.receivedAt))}</time></td><td class="size">${escape(humanSize(summary.size))}</td></tr>`,
    )
    .join('\n')
  const accounts = config.accounts.length ? config.accounts.map(escape).join(', ') : 'none declared'
  const found =
    (query ? `${messages.length} of ${total} messages match` : `${total} message${total === 1 ? '' : 's'}`) +
    (messages.length > LIST_ROWS ? `, the newest ${LIST_ROWS} shown (search to find the others)` : '')
  return page(
    `Mail on ${config.hostname}`,
    `<main data-live="list">
<header><h1><a href="/">Mail on ${escape(config.hostname)}</a></h1>
<p class="about">SMTP on ${escape(config.address)}:${config.smtpPort}. Accounts: ${accounts}. ${config.catchAll ? 'Every other recipient is caught too.' : 'Other recipients are refused.'}</p>
<form class="search" method="get" action="/"><input type="search" name="q" value="${escape(query)}" placeholder="from:app@example.test subject:welcome is:unread" aria-label="Search"><button type="submit">Search</button></form></header>
<p class="count">${escape(found)}.${messages.length ? ` <button type="button" class="danger" data-delete-search="${escape(query)}">${query ? 'Delete these' : 'Delete all'}</button>` : ''}</p>
${messages.length ? `<table class="messages"><thead><tr><th>Subject</th><th>From</th><th>To</th><th></th><th>Received</th><th>Size</th></tr></thead><tbody>\n${rows}\n</tbody></table>` : `<p class="empty">${query ? 'No message matches.' : 'No messages yet.'}</p>`}
</main>`,
  )
}

export function messagePage(parsed: ParsedMessage): string {
  const { summary, mail } = parsed
  const shape = mailpitMessage(parsed)
  const id = escape(summary.id)
  const fields: [string, string][] = [
    ['From', formatAddress(summary.from)],
    ['To', addressList(summary.to)],
    ['Cc', addressList(summary.cc)],
    ['Bcc', addressList(summary.bcc)],
    ['Reply-To', addressList(summary.replyTo)],
    ['Subject', summary.subject],
    ['Date', when(summary.date)],
  ]
  const summaryRows = fields
    .filter(([, value]) => value)
    .map(([name, value]) => `<tr><th>${escape(name)}</th><td>${escape(value)}</td></tr>`)
    .join('\n')
  const attachments = [...shape.Attachments, ...shape.Inline]
  const hasHtml = shape.HTML !== ''
  const source = parsed.raw.subarray(0, SOURCE_VIEW_BYTES).toString('utf8')
  return page(
    summary.subject || `Message ${summary.id}`,
    `<main data-id="${id}">
<nav><a href="/">← All messages</a> <a href="/api/v1/message/${id}/raw?dl=1" download="${id}.eml">Download .eml</a> <button type="button" class="danger" data-delete-id="${id}">Delete</button></nav>
<h1>${escape(summary.subject || '(no subject)')}</h1>
<table class="headers">${summaryRows}</table>
${attachments.length ? `<section class="attachments"><h2>Attachments</h2><ul>${attachments.map((part) => attachmentItem(summary.id, part)).join('')}</ul></section>` : ''}
<section class="views">
<input type="radio" name="view" id="view-html"${hasHtml ? ' checked' : ''}><label for="view-html">HTML</label>
<input type="radio" name="view" id="view-text"${hasHtml ? '' : ' checked'}><label for="view-text">Text</label>
<input type="radio" name="view" id="view-headers"><label for="view-headers">Headers</label>
<input type="radio" name="view" id="view-source"><label for="view-source">Source</label>
<div class="panel" id="panel-html">${hasHtml ? `<iframe sandbox="" src="/view/${id}.html" referrerpolicy="no-referrer" title="HTML body of the message"></iframe><p class="note">Scripts, forms and remote content of the message are blocked.</p>` : '<p class="empty">This message has no HTML part.</p>'}</div>
<div class="panel" id="panel-text"><pre>${escape(mail.text ?? '(no text part)')}</pre></div>
<div class="panel" id="panel-headers"><table class="headers">${headerRows(mail)}</table></div>
<div class="panel" id="panel-source"><pre>${escape(source)}${parsed.raw.length > SOURCE_VIEW_BYTES ? '\n… (the rest is in the .eml download)' : ''}</pre></div>
</section>
</main>`,
  )
}

export function notFoundPage(what: string): string {
  return page('Not found', `<main><h1>Not found</h1><p>${escape(what)}</p><p><a href="/">All messages</a></p></main>`)
}

function attachmentItem(id: string, part: MailpitAttachment): string {
  const name = part.FileName || part.ContentID || `part ${part.PartID}`
  const href = `/api/v1/message/${encodeURIComponent(id)}/part/${encodeURIComponent(part.PartID)}?dl=1`
  return `<li><a href="${escape(href)}" download="${escape(name)}">${escape(name)}</a> <span class="meta">${escape(part.ContentType)}, ${escape(humanSize(part.Size))} (${part.Size} bytes)</span></li>`
}

/** Every header, decoded (RFC 2047 words, address lists) as mailparser reads it. */
function headerRows(mail: ParsedMail): string {
  return mail.headerLines
    .map((line) => {
      const value = mail.headers.get(line.key)
      return `<tr><th>${escape(line.line.slice(0, line.line.indexOf(':')))}</th><td>${escape(headerValue(value, line.line))}</td></tr>`
    })
    .join('\n')
}

function headerValue(value: unknown, line: string): string {
  if (typeof value === 'string') return value
  if (value instanceof Date) return value.toISOString()
  // a header written more than once (Received) is shown line by line, as written
  if (Array.isArray(value)) return line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim()
  if (value && typeof value === 'object') {
    const structured = value as { text?: string; value?: unknown; params?: Record<string, string> }
    if (typeof structured.text === 'string') return structured.text
    if (typeof structured.value === 'string') return [structured.value, ...Object.entries(structured.params ?? {}).map(([key, param]) => `${key}=${param}`)].join('; ')
  }
  return line.slice(line.indexOf(':') + 1).trim()
}

function recipients(summary: StoredSummary): string {
  return [...summary.to, ...summary.cc, ...summary.bcc].map((address) => address.Address || address.Name).join(', ')
}

function addressList(addresses: MailAddress[]): string {
  return addresses.map(formatAddress).join(', ')
}

function when(iso: string): string {
  return iso.replace('T', ' ').slice(0, 19)
}

export function humanSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
