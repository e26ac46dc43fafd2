import { searchable, type MailAddress, type StoredSummary } from './summary.js'

/**
 * Mailpit's search (https://mailpit.axllent.org/docs/usage/search-filters/): words and quoted
 * phrases, each a filter that must match; `-` or `!` before one excludes instead. Field filters
 * match part of the field, case-insensitively, as Mailpit's SQL LIKE does.
 */
export function matcher(query: string): (summary: StoredSummary) => boolean {
  const filters = splitArguments(query).flatMap((term) => {
    const filter = termFilter(term)
    return filter ? [filter] : []
  })
  return (summary) => filters.every((filter) => filter(summary))
}

type Filter = (summary: StoredSummary) => boolean

function termFilter(argument: string): Filter | undefined {
  let term = argument
  let exclude = false
  if (term.length > 1 && (term.startsWith('-') || term.startsWith('!'))) {
    exclude = true
    term = term.slice(1)
  }
  const include = includeFilter(term)
  if (!include) return undefined
  return exclude ? (summary) => !include(summary) : include
}

const ADDRESS_FIELDS = {
  'to:': (summary: StoredSummary) => summary.to,
  'from:': (summary: StoredSummary) => [summary.from],
  'cc:': (summary: StoredSummary) => summary.cc,
  'bcc:': (summary: StoredSummary) => summary.bcc,
  'reply-to:': (summary: StoredSummary) => summary.replyTo,
  'addressed:': (summary: StoredSummary) => [...summary.to, ...[summary.from], ...summary.cc, ...summary.bcc, ...summary.replyTo],
} as const

function includeFilter(term: string): Filter | undefined {
  const lower = term.toLowerCase()
  for (const [prefix, field] of Object.entries(ADDRESS_FIELDS)) {
    if (!lower.startsWith(prefix)) continue
    const value = searchable(term.slice(prefix.length))
    return value ? (summary) => field(summary).some((address) => addressText(address).includes(value)) : undefined
  }
  if (lower.startsWith('subject:')) {
    const value = lower.slice('subject:'.length)
    return value ? (summary) => summary.subject.toLowerCase().includes(value) : undefined
  }
  if (lower.startsWith('message-id:')) {
    const value = searchable(term.slice('message-id:'.length))
    return value ? (summary) => summary.messageId.toLowerCase().includes(value) : undefined
  }
  // devenv has no tags: a tag filter matches no message
  if (lower.startsWith('tag:')) return lower.length > 'tag:'.length ? () => false : undefined
  if (lower === 'is:tagged') return () => false
  if (lower === 'is:read') return (summary) => summary.read
  if (lower === 'is:unread') return (summary) => !summary.read
  if (lower === 'has:attachment' || lower === 'has:attachments') return (summary) => summary.attachments > 0
  if (lower.startsWith('after:') || lower.startsWith('before:')) return dateFilter(lower)
  const size = /^(larger|smaller):(.+)$/.exec(lower)
  if (size && sizeBytes(size[2]!) > 0) {
    const bytes = sizeBytes(size[2]!)
    return size[1] === 'larger' ? (summary) => summary.size > bytes : (summary) => summary.size < bytes
  }
  const words = searchable(term)
  return words ? (summary) => summary.searchText.includes(words) : undefined
}

/** `after:2025-01-31` and `before:...`, on when the message was received; a date that does not parse is ignored, as Mailpit ignores it. */
function dateFilter(term: string): Filter | undefined {
  const after = term.startsWith('after:')
  const time = Date.parse(term.slice(after ? 'after:'.length : 'before:'.length).trim())
  if (Number.isNaN(time)) return undefined
  return after ? (summary) => Date.parse(summary.receivedAt) >= time : (summary) => Date.parse(summary.receivedAt) <= time
}

/** Mailpit's sizes: 2kb, 4MB, 1.5m, 300 (bytes). */
function sizeBytes(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s?([a-z]{1,2})?$/.exec(text.trim())
  if (!match) return 0
  const value = Number(match[1])
  const unit = match[2] ?? ''
  if (unit === '') return Math.floor(value)
  if (unit === 'k' || unit === 'kb') return Math.floor(value * 1024)
  if (unit === 'm' || unit === 'mb') return Math.floor(value * 1024 * 1024)
  return 0
}

function addressText(address: MailAddress): string {
  return searchable(`${address.Name} ${address.Address}`)
}

/** Mailpit's ArgsParser: split on spaces outside double quotes; the quotes themselves are dropped. */
export function splitArguments(query: string): string[] {
  const argumentsFound: string[] = []
  let current = ''
  let quoted = false
  for (const character of query) {
    if (character === '"') quoted = !quoted
    else if (!quoted && character === ' ') {
      if (current.trim()) argumentsFound.push(current.trim())
      current = ''
    } else current += character
  }
  if (current.trim()) argumentsFound.push(current.trim())
  return argumentsFound
}
