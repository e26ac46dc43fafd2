/**
 * The request heads the fast relay answers itself: HTTP/1.1, origin-form target, no body, no
 * upgrade, nothing that changes the connection beyond `Connection: close`. Anything else, and
 * anything even slightly malformed, is `'fallback'`: node's HTTP server (llhttp) takes the
 * connection over and does the strict parsing and the 400/431 answers.
 */
export interface RequestHead {
  method: string
  target: string
  /** The headers that go on to the backend, serialised (`Name: value\r\n` each). */
  forwardedLines: string
  host: string
  /** X-Forwarded-For chain from proxies before us ('' when none). */
  forwardedFor: string
  /** Every Cookie header value, in order ('' when none). */
  cookies: string[] | undefined
  /** The client asked to close the connection after this exchange. */
  close: boolean
  /** Bytes of the head, request line to the blank line included. */
  length: number
}

export type RequestHeadResult = RequestHead | 'incomplete' | 'fallback'

/** node's default limit; a bigger head goes to node's server, which answers 431. */
export const MAX_REQUEST_HEAD = 16 * 1024

const REQUEST_LINE = /^(GET|HEAD|OPTIONS|DELETE|TRACE|PUT|POST|PATCH) (\/[\x21-\x7e]*) HTTP\/1\.1$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
/** Control characters (tab aside), CR not before LF, LF not after CR. */
const FORBIDDEN = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\r(?!\n)|(?<!\r)\n/
const BARE_LF = /(?<!\r)\n/
/** Dropped on the way (RFC 9110 §7.6.1), or replaced by the balancer's own X-Forwarded-*. */
const DROPPED = new Set(['keep-alive', 'proxy-connection', 'te', 'trailer', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'])
/** Requests with these go to node's server (bodies, upgrades, 100-continue). */
const HANDED_OVER = new Set(['transfer-encoding', 'upgrade', 'expect', 'http2-settings'])

export function parseRequestHead(buffer: Buffer): RequestHeadResult {
  const end = buffer.indexOf('\r\n\r\n')
  if (end < 0) {
    // A head that cannot end well here: too big, or with bare LF line ends that only node's parser judges.
    if (buffer.length > MAX_REQUEST_HEAD || BARE_LF.test(buffer.toString('latin1'))) return 'fallback'
    return 'incomplete'
  }
  if (end + 4 > MAX_REQUEST_HEAD) return 'fallback'
  const head = buffer.toString('latin1', 0, end)
  if (FORBIDDEN.test(head)) return 'fallback'
  const lines = head.split('\r\n')
  const requestLine = REQUEST_LINE.exec(lines[0]!)
  if (!requestLine) return 'fallback'
  let forwardedLines = ''
  let host: string | undefined
  let forwardedFor = ''
  let cookies: string[] | undefined
  let close = false
  let contentLength = false
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index]!
    const colon = line.indexOf(':')
    if (colon <= 0) return 'fallback'
    const name = line.slice(0, colon)
    if (!TOKEN.test(name)) return 'fallback'
    const value = line.slice(colon + 1).trim()
    const lower = name.toLowerCase()
    switch (lower) {
      case 'host':
        if (host !== undefined) return 'fallback'
        host = value
        break
      case 'content-length':
        if (contentLength || value !== '0') return 'fallback'
        contentLength = true
        break
      case 'connection':
        for (const token of value.toLowerCase().split(',')) {
          const option = token.trim()
          if (option === 'close') close = true
          else if (option !== 'keep-alive' && option !== '') return 'fallback'
        }
        continue
      case 'x-forwarded-for':
        forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value
        continue
      case 'cookie':
        ;(cookies ??= []).push(value)
        break
      default:
        if (HANDED_OVER.has(lower)) return 'fallback'
        if (DROPPED.has(lower)) continue
    }
    forwardedLines += `${name}: ${value}\r\n`
  }
  // HTTP/1.1 requires Host: node's server answers 400 without it.
  if (host === undefined) return 'fallback'
  return { method: requestLine[1]!, target: requestLine[2]!, forwardedLines, host, forwardedFor, cookies, close, length: end + 4 }
}
