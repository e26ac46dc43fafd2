import type { AddressObject, ParsedMail } from 'mailparser'

/** An address as Mailpit's API gives it (Go's net/mail.Address). */
export interface MailAddress {
  Name: string
  Address: string
}

export interface Envelope {
  from: string
  to: string[]
}

/**
 * What the store keeps of a message beside its .eml (<id>.json), so that listing and searching
 * never parse mail. `version` changes when a field is added: older files are rebuilt on open.
 */
export interface StoredSummary {
  version: typeof SUMMARY_VERSION
  id: string
  messageId: string
  /** Empty Name and Address when the message names no sender, as Mailpit gives it. */
  from: MailAddress
  to: MailAddress[]
  cc: MailAddress[]
  /** The Bcc header's addresses and every envelope recipient no header names, as Mailpit shows them. */
  bcc: MailAddress[]
  replyTo: MailAddress[]
  subject: string
  /** The Date header, else when it was received; ISO 8601. */
  date: string
  receivedAt: string
  /** Bytes of the .eml. */
  size: number
  attachments: number
  snippet: string
  read: boolean
  /** Headers, body text and attachment names, lower-cased with whitespace collapsed: what plain search words match. */
  searchText: string
  envelope: Envelope
}

export const SUMMARY_VERSION = 2

const SNIPPET_CHARACTERS = 200
/** Plain words match the beginning of a body, up to this: every summary is held in memory. */
const SEARCH_TEXT_CHARACTERS = 16 * 1024

export function summarise(id: string, mail: ParsedMail, envelope: Envelope, size: number, receivedAt: Date): StoredSummary {
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : receivedAt
  const to = addresses(mail.to)
  const cc = addresses(mail.cc)
  const named = new Set([...to, ...cc, ...addresses(mail.bcc)].map((address) => address.Address.toLowerCase()))
  // Mailpit adds the envelope recipients no header names (Bcc) to the Bcc field; so does this
  const hidden = envelope.to.filter((recipient) => !named.has(recipient.toLowerCase())).map((recipient) => ({ Name: '', Address: recipient }))
  const from = addresses(mail.from)[0] ?? { Name: '', Address: envelope.from }
  const attachmentNames = mail.attachments.map((attachment) => attachment.filename ?? '').join(' ')
  return {
    version: SUMMARY_VERSION,
    id,
    messageId: (mail.messageId ?? '').replace(/^<|>$/g, ''),
    from,
    to,
    cc,
    bcc: [...addresses(mail.bcc), ...hidden],
    replyTo: addresses(mail.replyTo),
    subject: mail.subject ?? '',
    date: date.toISOString(),
    receivedAt: receivedAt.toISOString(),
    size,
    attachments: mail.attachments.filter((attachment) => !isInline(attachment)).length,
    snippet: snippet(bodyText(mail)),
    read: false,
    searchText: searchable([headerText(mail, 'from'), mail.subject ?? '', headerText(mail, 'to'), headerText(mail, 'cc'), headerText(mail, 'bcc'), headerText(mail, 'reply-to'), bodyText(mail).slice(0, SEARCH_TEXT_CHARACTERS), attachmentNames].join(' ')),
    envelope,
  }
}

/** Inline parts (images of an HTML body) are listed apart from attachments, as Mailpit does. */
export function isInline(attachment: ParsedMail['attachments'][number]): boolean {
  return attachment.related === true || attachment.contentDisposition === 'inline'
}

/** Mailpit's cleanString: line ends, tabs and <>",;() become spaces, whitespace collapses, lower case. */
export function searchable(text: string): string {
  return text
    .replace(/\uFEFF|\r?\n|\t|[<>",;()]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .join(' ')
    .toLowerCase()
}

export function formatAddress(address: MailAddress): string {
  if (!address.Name) return address.Address
  return address.Address ? `"${address.Name.replace(/"/g, '\\"')}" <${address.Address}>` : address.Name
}

function addresses(field: AddressObject | AddressObject[] | undefined): MailAddress[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field]
  return list.flatMap((entry) =>
    entry.value.flatMap((address) => (address.group ?? [address]).map((member) => ({ Name: member.name ?? '', Address: member.address ?? '' }))),
  )
}

function headerText(mail: ParsedMail, name: string): string {
  const value = mail.headers.get(name)
  if (value === undefined) return ''
  if (typeof value === 'string') return value
  return (value as { text?: string }).text ?? ''
}

/** mailparser gives the text part, or text made from the HTML part when there is no text part. */
function bodyText(mail: ParsedMail): string {
  return mail.text ?? ''
}

function snippet(text: string): string {
  const flat = text.replace(/\uFEFF/g, ' ').replace(/\s+/g, ' ').trim()
  return flat.length <= SNIPPET_CHARACTERS ? flat : `${flat.slice(0, SNIPPET_CHARACTERS)}...`
}
