import { createHash } from 'node:crypto'
import type { ParsedMail } from 'mailparser'
import type { MessageStore, ParsedMessage } from './store.js'
import { isInline, type MailAddress, type StoredSummary } from './summary.js'

/**
 * The JSON shapes of Mailpit's REST API v1, field for field as its OpenAPI file
 * (server/ui/api/v1/swagger.json) defines them, so that Mailpit's clients read devenv's mail box.
 */
export interface MailpitMessageSummary {
  ID: string
  MessageID: string
  Read: boolean
  From: MailAddress
  To: MailAddress[]
  Cc: MailAddress[]
  Bcc: MailAddress[]
  ReplyTo: MailAddress[]
  Subject: string
  Created: string
  Username: string
  Tags: string[]
  Size: number
  Attachments: number
  Snippet: string
}

export interface MailpitMessagesSummary {
  total: number
  unread: number
  count: number
  messages_count: number
  messages_unread: number
  start: number
  tags: string[]
  messages: MailpitMessageSummary[]
}

export interface MailpitAttachment {
  PartID: string
  FileName: string
  ContentType: string
  ContentID: string
  Size: number
  Checksums: { MD5: string; SHA1: string; SHA256: string }
}

export interface MailpitMessage {
  ID: string
  MessageID: string
  From: MailAddress
  To: MailAddress[]
  Cc: MailAddress[]
  Bcc: MailAddress[]
  ReplyTo: MailAddress[]
  ReturnPath: string
  Subject: string
  ListUnsubscribe: { Header: string; Links: string[]; Errors: string; HeaderPost: string }
  Date: string
  Tags: string[]
  Username: string
  Text: string
  HTML: string
  Size: number
  Inline: MailpitAttachment[]
  Attachments: MailpitAttachment[]
}

export function messageSummary(summary: StoredSummary): MailpitMessageSummary {
  return {
    ID: summary.id,
    MessageID: summary.messageId,
    Read: summary.read,
    From: summary.from,
    To: summary.to,
    Cc: summary.cc,
    Bcc: summary.bcc,
    ReplyTo: summary.replyTo,
    Subject: summary.subject,
    Created: summary.receivedAt,
    Username: '',
    Tags: [],
    Size: summary.size,
    Attachments: summary.attachments,
    Snippet: summary.snippet,
  }
}

/** One page of a listing or a search; `matching` is every message the query matched, before paging. */
export function messagesSummary(store: MessageStore, matching: StoredSummary[], start: number, limit: number): MailpitMessagesSummary {
  const page = matching.slice(start, start + limit)
  return {
    total: store.list().length,
    unread: store.unreadCount(),
    count: page.length,
    messages_count: matching.length,
    messages_unread: matching.filter((summary) => !summary.read).length,
    start,
    tags: [],
    messages: page.map(messageSummary),
  }
}

export function message({ summary, mail }: ParsedMessage): MailpitMessage {
  const parts = mail.attachments.filter((attachment) => attachment.partId && (attachment.filename || attachment.contentId))
  const returnPath = headerString(mail, 'return-path').replace(/^<|>$/g, '')
  const unsubscribe = headerString(mail, 'list-unsubscribe')
  return {
    ID: summary.id,
    MessageID: summary.messageId,
    From: summary.from,
    To: summary.to,
    Cc: summary.cc,
    Bcc: summary.bcc,
    ReplyTo: summary.replyTo,
    ReturnPath: returnPath || summary.from.Address,
    Subject: summary.subject,
    ListUnsubscribe: {
      Header: unsubscribe,
      Links: [...unsubscribe.matchAll(/<([^>]+)>/g)].map((match) => match[1]!),
      Errors: '',
      HeaderPost: headerString(mail, 'list-unsubscribe-post'),
    },
    Date: summary.date,
    Tags: [],
    Username: '',
    Text: mail.text ?? '',
    HTML: typeof mail.html === 'string' ? mail.html : '',
    Size: summary.size,
    Inline: parts.filter(isInline).map(attachment),
    Attachments: parts.filter((part) => !isInline(part)).map(attachment),
  }
}

/** The part a client asks for by its PartID (the IMAP-style path in the MIME tree: 2, 1.2). */
export function findPart(mail: ParsedMail, partId: string): ParsedMail['attachments'][number] | undefined {
  return mail.attachments.find((part) => part.partId === partId)
}

/**
 * The headers as Go's net/mail reads them: canonical names (Message-Id, Content-Type), each a
 * list of its values as written (folded lines joined), names in alphabetical order.
 */
export function headers(raw: Buffer): Record<string, string[]> {
  // the header block ends at the first empty line, whichever line ends the message uses
  const ends = [raw.indexOf('\r\n\r\n'), raw.indexOf('\n\n')].filter((index) => index >= 0)
  const end = ends.length ? Math.min(...ends) : -1
  const block = raw.subarray(0, end >= 0 ? end : raw.length).toString('utf8')
  const found = new Map<string, string[]>()
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = canonicalName(line.slice(0, colon).trim())
    found.set(name, [...(found.get(name) ?? []), line.slice(colon + 1).trim()])
  }
  return Object.fromEntries([...found.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}

/** Go's textproto.CanonicalMIMEHeaderKey. */
function canonicalName(name: string): string {
  if (!/^[A-Za-z0-9-]+$/.test(name)) return name
  return name
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1).toLowerCase())
    .join('-')
}

function attachment(part: ParsedMail['attachments'][number]): MailpitAttachment {
  const digest = (algorithm: string): string => createHash(algorithm).update(part.content).digest('hex')
  return {
    PartID: part.partId!,
    FileName: part.filename ?? '',
    ContentType: part.contentType,
    ContentID: (part.contentId ?? '').replace(/^<|>$/g, ''),
    Size: part.size,
    Checksums: { MD5: digest('md5'), SHA1: digest('sha1'), SHA256: digest('sha256') },
  }
}

function headerString(mail: ParsedMail, name: string): string {
  const value = mail.headers.get(name)
  if (typeof value === 'string') return value
  const text = (value as { text?: string; value?: unknown } | undefined)?.text
  return text ?? ''
}
