/**
 * A backend's response head, read strictly: what the client gets (hop-by-hop headers dropped)
 * and how the body is framed (RFC 9112 §6.3). A backend that breaks the rules gets a 502, not a
 * guess.
 */
export type BodyFraming = 'none' | 'length' | 'chunked' | 'until-close'

export interface ResponseHead {
  status: number
  reason: string
  /** The headers for the client, serialised (`Name: value\r\n` each). */
  lines: string
  framing: BodyFraming
  contentLength: number
  /** The backend connection can carry another request after this response. */
  reusable: boolean
  /** Bytes of the head, status line to the blank line included. */
  length: number
}

export type ResponseHeadResult = ResponseHead | 'incomplete' | { malformed: string }

export const MAX_RESPONSE_HEAD = 64 * 1024

const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/
const DIGITS = /^\d{1,15}$/
const DROPPED = new Set(['connection', 'keep-alive', 'proxy-connection', 'upgrade'])

/** `start`: where the head begins in `buffer`. `head`: the request was HEAD (no body whatever the headers say). */
export function parseResponseHead(buffer: Buffer, start: number, head: boolean): ResponseHeadResult {
  const end = buffer.indexOf('\r\n\r\n', start)
  if (end < 0) return buffer.length - start > MAX_RESPONSE_HEAD ? { malformed: 'response head too large' } : 'incomplete'
  if (end + 4 - start > MAX_RESPONSE_HEAD) return { malformed: 'response head too large' }
  const text = buffer.toString('latin1', start, end)
  if (FORBIDDEN.test(text)) return { malformed: 'invalid characters in the response head' }
  const lines = text.split('\r\n')
  const statusLine = STATUS_LINE.exec(lines[0]!)
  if (!statusLine) return { malformed: 'invalid status line' }
  const http11 = statusLine[1] === '1'
  const status = Number(statusLine[2])
  let keepAlive = http11
  let forwarded = ''
  let lengthLines = ''
  let contentLength = -1
  let transferEncoding: string | undefined
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!
    const colon = line.indexOf(':')
    if (colon <= 0) return { malformed: 'invalid header line' }
    const name = line.slice(0, colon)
    if (!TOKEN.test(name)) return { malformed: 'invalid header name' }
    const value = line.slice(colon + 1).trim()
    const lower = name.toLowerCase()
    if (lower === 'content-length') {
      // A list of equal values is allowed (RFC 9110 §8.6); differing ones are an attack or a bug.
      for (const item of value.split(',')) {
        const candidate = item.trim()
        if (!DIGITS.test(candidate)) return { malformed: 'invalid Content-Length' }
        const parsed = Number(candidate)
        if (contentLength >= 0 && parsed !== contentLength) return { malformed: 'conflicting Content-Length headers' }
        contentLength = parsed
      }
      lengthLines += `${name}: ${value}\r\n`
      continue
    }
    if (lower === 'transfer-encoding') transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`
    else if (DROPPED.has(lower)) {
      if (lower === 'connection') {
        for (const token of value.toLowerCase().split(',')) {
          const option = token.trim()
          if (option === 'close') keepAlive = false
          else if (option === 'keep-alive' && !http11) keepAlive = true
        }
      }
      continue
    }
    forwarded += `${name}: ${value}\r\n`
  }
  let framing: BodyFraming
  if (head || status < 200 || status === 204 || status === 304) framing = 'none'
  else if (transferEncoding !== undefined) framing = /(?:^|,)\s*chunked\s*$/i.test(transferEncoding) ? 'chunked' : 'until-close'
  else if (contentLength >= 0) framing = 'length'
  else framing = 'until-close'
  // With Transfer-Encoding, Content-Length means nothing and must not reach the client (RFC 9112 §6.1).
  if (transferEncoding === undefined) forwarded += lengthLines
  return {
    status,
    reason: statusLine[3] ?? '',
    lines: forwarded,
    framing,
    contentLength: framing === 'length' ? contentLength : 0,
    reusable: keepAlive && framing !== 'until-close' && !(transferEncoding !== undefined && contentLength >= 0),
    length: end + 4 - start,
  }
}
