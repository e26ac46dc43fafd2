import type { IncomingMessage } from 'node:http'

/** Headers that concern one connection only (RFC 9110 §7.6.1): never forwarded as they are. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'])
/** Set by the balancer itself; what a client sends there is replaced (the first hop is ours). */
const FORWARDED = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port'])

/** The request as it goes to a backend, read in one pass over the raw headers. */
export interface ForwardedRequest {
  headers: string[]
  /** A body follows the headers: such a request cannot be sent twice. */
  hasBody: boolean
  /** The value of the sticky cookie, when asked for and present. */
  sticky: string | undefined
}

/** `host`: the Host the request is for (resolveTarget's), which replaces the client's. */
export function forwardRequestHeaders(request: IncomingMessage, host: string, scheme: string, localPort: number, stickyCookie: string | undefined, upgrade: boolean): ForwardedRequest {
  const raw = request.rawHeaders
  const headers: string[] = ['Host', host]
  let hasBody = false
  let sticky: string | undefined
  let forwardedFor = ''
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!
    const value = raw[index + 1]!
    const lower = name.toLowerCase()
    if (HOP_BY_HOP.has(lower)) {
      if (lower === 'transfer-encoding') hasBody = true
      else if (lower === 'upgrade' && upgrade) headers.push(name, value)
      continue
    }
    if (FORWARDED.has(lower)) {
      // A chain of proxies before us: keep the addresses they recorded.
      if (lower === 'x-forwarded-for') forwardedFor = forwardedFor ? `${forwardedFor}, ${value}` : value
      continue
    }
    if (lower === 'host') continue
    if (lower === 'content-length') hasBody = value !== '0'
    else if (stickyCookie !== undefined && lower === 'cookie' && sticky === undefined) sticky = cookieValue(value, stickyCookie)
    headers.push(name, value)
  }
  const client = request.socket.remoteAddress ?? ''
  headers.push(
    'X-Forwarded-For', forwardedFor ? `${forwardedFor}, ${client}` : client,
    'X-Forwarded-Proto', scheme,
    'X-Forwarded-Port', String(localPort),
  )
  if (host) headers.push('X-Forwarded-Host', host)
  if (upgrade) headers.push('Connection', 'Upgrade')
  return { headers, hasBody, sticky }
}

/** The backend's response headers for the client: hop-by-hop ones dropped, ours added. */
export function forwardResponseHeaders(raw: string[], backendName: string, setCookie: string | undefined): string[] {
  const headers: string[] = []
  for (let index = 0; index < raw.length; index += 2) {
    const name = raw[index]!
    if (HOP_BY_HOP.has(name.toLowerCase())) continue
    headers.push(name, raw[index + 1]!)
  }
  headers.push('X-Devenv-Backend', backendName)
  if (setCookie) headers.push('Set-Cookie', setCookie)
  return headers
}

export function cookieValue(header: string, name: string): string | undefined {
  for (const pair of header.split(';')) {
    const equals = pair.indexOf('=')
    if (equals > 0 && pair.slice(0, equals).trim() === name) return pair.slice(equals + 1).trim()
  }
  return undefined
}
