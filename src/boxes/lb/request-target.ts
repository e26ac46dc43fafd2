import type { IncomingMessage } from 'node:http'

/** Where a request goes on the backend: origin-form path and the Host it is for. */
export interface RequestTarget {
  path: string
  host: string
}

/** A request the balancer answers itself, as nginx would, without asking a backend. */
export interface RefusedRequest {
  status: 400
  reason: string
}

/**
 * The target and Host of a request the node server parsed, by RFC 9112 §3.2: more than one Host
 * is refused; an absolute-form target's authority wins over any Host (§3.2.2) and goes on in
 * origin form, as nginx sends it; a request without Host (HTTP/1.0, where it is optional) gets
 * `defaultHost`, as nginx's `$host` falls back to its `server_name`, since the request goes to
 * the backend as HTTP/1.1, where Host is required.
 */
export function resolveTarget(request: IncomingMessage, defaultHost: string): RequestTarget | RefusedRequest {
  let host: string | undefined
  const raw = request.rawHeaders
  for (let index = 0; index < raw.length; index += 2) {
    if (raw[index]!.toLowerCase() !== 'host') continue
    if (host !== undefined) return { status: 400, reason: 'more than one Host header' }
    host = raw[index + 1]!
  }
  const url = request.url ?? '/'
  if (url.startsWith('/') || (url === '*' && request.method === 'OPTIONS')) return { path: url, host: host ?? defaultHost }
  return absoluteForm(url)
}

function absoluteForm(target: string): RequestTarget | RefusedRequest {
  let url: URL
  try {
    url = new URL(target)
  } catch {
    return { status: 400, reason: `a request target that is neither a path nor an absolute URL` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { status: 400, reason: `a request target of scheme ${url.protocol.slice(0, -1)}` }
  // RFC 9110 §4.2.4: user information in an http(s) URI is deprecated and must not be trusted
  if (url.username || url.password || target.slice(url.protocol.length + 2).split(/[/?#]/, 1)[0]!.includes('@')) {
    return { status: 400, reason: 'a request target with user information' }
  }
  if (!url.hostname || !/^[a-z]+:\/\/[^/?#]/i.test(target)) return { status: 400, reason: 'a request target without a host' }
  return { path: `${url.pathname}${url.search}`, host: url.host }
}

/** The Host for requests that name none: the service's first hostname, else the address the client reached. */
export function defaultHostOf(hostnames: readonly string[], address: string, port: number, scheme: string): string {
  if (hostnames[0]) return hostnames[0]
  const standard = (scheme === 'https' && port === 443) || (scheme === 'http' && port === 80)
  const name = address.includes(':') ? `[${address}]` : address
  return standard ? name : `${name}:${port}`
}
