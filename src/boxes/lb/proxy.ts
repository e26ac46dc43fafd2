import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { TLSSocket } from 'node:tls'
import { forwardRequestHeaders, forwardResponseHeaders, type ForwardedRequest } from './headers.js'
import type { HealthChecker } from './health.js'
import type { EventLog } from './log.js'
import type { Backend, BackendPool } from './pool.js'
import { defaultHostOf, resolveTarget, type RequestTarget } from './request-target.js'

export interface ProxyOptions {
  pool: BackendPool
  health: HealthChecker
  log: EventLog
  stickyCookie: string | undefined
  backendTimeoutMs: number
  /** The service's hostnames: the first is the Host of requests that name none. */
  hostnames: readonly string[]
}

/** Safe to send again to another backend when the first refused or dropped the connection before answering. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
/** Failures that happen before a backend has seen the request, or when it died holding it. */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH'])

/** The methods a 405 to CONNECT lists: those of RFC 9110 and PATCH, all passed on to backends. */
const FORWARDED_METHODS = 'GET, HEAD, POST, PUT, DELETE, OPTIONS, TRACE, PATCH'

class BackendTimeout extends Error {
  readonly code = 'ETIMEDOUT'
}

/** The request handlers of the balancer: one for plain requests, one for upgrades (WebSocket). */
export class Proxy {
  /** Upgraded connections: the HTTP server no longer tracks them, so closing must end them here. */
  private readonly tunnels = new Set<Duplex>()

  constructor(private readonly options: ProxyOptions) {}

  closeTunnels(): void {
    for (const socket of this.tunnels) socket.destroy()
    this.tunnels.clear()
  }

  readonly handleRequest = (request: IncomingMessage, response: ServerResponse): void => {
    const target = this.target(request)
    if ('status' in target) {
      // the connection goes too: what follows a request read wrong cannot be trusted (nginx closes it as well)
      response.shouldKeepAlive = false
      return plainResponse(response, target.status, `bad request: ${target.reason}\n`, undefined)
    }
    const forwarded = forwardRequestHeaders(request, target.host, schemeOf(request), request.socket.localPort ?? 0, this.options.stickyCookie, false)
    const sticky = this.stickyBackend(forwarded)
    const backend = sticky ?? this.options.pool.pick()
    if (!backend) return this.noBackend(response)
    this.send(request, response, target, forwarded, backend, sticky === undefined && this.options.stickyCookie !== undefined)
  }

  /** CONNECT asks a proxy for a tunnel; a reverse proxy has none to give: 405, as nginx answers. */
  readonly handleConnect = (_request: IncomingMessage, socket: Duplex): void => {
    socket.on('error', () => socket.destroy())
    rawResponse(socket, 405, 'CONNECT is not supported: this is a reverse proxy, not a forward proxy\n', `Allow: ${FORWARDED_METHODS}\r\n`)
  }

  private target(request: IncomingMessage): ReturnType<typeof resolveTarget> {
    const scheme = schemeOf(request)
    const port = request.socket.localPort ?? 0
    return resolveTarget(request, defaultHostOf(this.options.hostnames, request.socket.localAddress ?? '', port, scheme))
  }

  private send(request: IncomingMessage, response: ServerResponse, target: RequestTarget, forwarded: ForwardedRequest, backend: Backend, setSticky: boolean): void {
    backend.active += 1
    let answered = false
    let released = false
    // The backend's agent carries the timeout: cheaper than arming a timer per request.
    const outgoing = http.request({
      host: backend.address,
      port: backend.port,
      method: request.method,
      path: target.path,
      headers: forwarded.headers,
      agent: backend.agent,
      setHost: false,
    })
    outgoing.on('timeout', () => outgoing.destroy(new BackendTimeout()))
    outgoing.on('response', (incoming) => {
      answered = true
      const cookie = setSticky ? `${this.options.stickyCookie}=${backend.name}; Path=/; HttpOnly; SameSite=Lax` : undefined
      response.writeHead(incoming.statusCode ?? 502, incoming.statusMessage, forwardResponseHeaders(incoming.rawHeaders, backend.name, cookie))
      relay(incoming, response)
    })
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (!released) {
        released = true
        backend.active -= 1
      }
      if (answered || response.destroyed) {
        response.destroy()
        return
      }
      if (error.code === 'ECONNREFUSED') this.options.health.markDown(backend, `refused a connection on ${backend.address}:${backend.port}`)
      const retry = !forwarded.hasBody && IDEMPOTENT.has(request.method ?? '') && RETRYABLE.has(error.code ?? '') ? this.options.pool.pick(backend) : undefined
      if (retry) return this.send(request, response, target, forwarded, retry, setSticky)
      if (error instanceof BackendTimeout) {
        this.options.log.event(`timeout: ${request.method} ${request.url} on ${backend.name}: no answer within ${this.options.backendTimeoutMs} ms`)
        return plainResponse(response, 504, `backend ${backend.name} did not answer within ${this.options.backendTimeoutMs} ms\n`, backend.name)
      }
      this.options.log.event(`error: ${request.method} ${request.url} on ${backend.name}: ${error.code ?? error.message}`)
      plainResponse(response, 502, `backend ${backend.name} failed: ${error.code ?? error.message}\n`, backend.name)
    })
    // Whole or cut short, the exchange is over; a client gone early stops the backend's work too.
    response.once('close', () => {
      if (!released) {
        released = true
        backend.active -= 1
      }
      if (!response.writableFinished) outgoing.destroy()
    })
    if (forwarded.hasBody) request.pipe(outgoing)
    else outgoing.end()
  }

  readonly handleUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.tunnels.add(socket)
    socket.on('close', () => this.tunnels.delete(socket))
    socket.on('error', () => socket.destroy())
    const target = this.target(request)
    if ('status' in target) return rawResponse(socket, target.status, `bad request: ${target.reason}\n`)
    const forwarded = forwardRequestHeaders(request, target.host, schemeOf(request), request.socket.localPort ?? 0, this.options.stickyCookie, true)
    const backend = this.stickyBackend(forwarded) ?? this.options.pool.pick()
    if (!backend) return rawResponse(socket, 502, 'no backend is up\n')
    this.tunnel(request, socket, head, target, forwarded, backend)
  }

  private tunnel(request: IncomingMessage, socket: Duplex, head: Buffer, target: RequestTarget, forwarded: ForwardedRequest, backend: Backend): void {
    const outgoing = http.request({
      host: backend.address,
      port: backend.port,
      method: request.method,
      path: target.path,
      headers: forwarded.headers,
      agent: false,
      setHost: false,
    })
    outgoing.setTimeout(this.options.backendTimeoutMs, () => outgoing.destroy(new BackendTimeout()))
    outgoing.on('upgrade', (incoming, backendSocket, backendHead) => {
      backend.active += 1
      backendSocket.setTimeout(0)
      let lines = `HTTP/1.1 ${incoming.statusCode} ${incoming.statusMessage}\r\n`
      const raw = incoming.rawHeaders
      for (let index = 0; index < raw.length; index += 2) lines += `${raw[index]}: ${raw[index + 1]}\r\n`
      socket.write(`${lines}X-Devenv-Backend: ${backend.name}\r\n\r\n`)
      if (backendHead.length) socket.write(backendHead)
      if (head.length) backendSocket.write(head)
      this.tunnels.add(backendSocket)
      let closed = false
      const close = (): void => {
        this.tunnels.delete(backendSocket)
        if (closed) return
        closed = true
        backend.active -= 1
        socket.destroy()
        backendSocket.destroy()
      }
      backendSocket.on('error', close).on('close', close)
      socket.on('error', close).on('close', close)
      backendSocket.pipe(socket)
      socket.pipe(backendSocket)
    })
    outgoing.on('response', (incoming) => {
      // The backend declined the upgrade: pass its answer on and close.
      const headers = forwardResponseHeaders(incoming.rawHeaders, backend.name, undefined)
      let lines = `HTTP/1.1 ${incoming.statusCode} ${incoming.statusMessage}\r\n`
      for (let index = 0; index < headers.length; index += 2) lines += `${headers[index]}: ${headers[index + 1]}\r\n`
      socket.write(`${lines}Connection: close\r\n\r\n`)
      incoming.pipe(socket)
      incoming.on('error', () => socket.destroy())
    })
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (socket.destroyed) return
      if (error.code === 'ECONNREFUSED') this.options.health.markDown(backend, `refused a connection on ${backend.address}:${backend.port}`)
      const retry = RETRYABLE.has(error.code ?? '') ? this.options.pool.pick(backend) : undefined
      if (retry) return this.tunnel(request, socket, head, target, forwarded, retry)
      const status = error instanceof BackendTimeout ? 504 : 502
      rawResponse(socket, status, `backend ${backend.name} failed: ${error.code ?? error.message}\n`)
    })
    outgoing.end()
  }

  private stickyBackend(forwarded: ForwardedRequest): Backend | undefined {
    if (forwarded.sticky === undefined) return undefined
    const backend = this.options.pool.get(forwarded.sticky)
    return backend?.up ? backend : undefined
  }

  private noBackend(response: ServerResponse): void {
    this.options.log.event('no backend is up: answered 502')
    plainResponse(response, 502, 'no backend is up\n', undefined)
  }
}

/** incoming → response with back-pressure; lighter than pipe(), which adds half a dozen listeners per request. */
function relay(incoming: IncomingMessage, response: ServerResponse): void {
  incoming.on('data', (chunk: Buffer) => {
    if (!response.write(chunk)) {
      incoming.pause()
      response.once('drain', () => incoming.resume())
    }
  })
  incoming.on('end', () => response.end())
  incoming.on('error', () => response.destroy())
}

function schemeOf(request: IncomingMessage): string {
  return (request.socket as TLSSocket).encrypted ? 'https' : 'http'
}

function plainResponse(response: ServerResponse, status: number, body: string, backend: string | undefined): void {
  if (response.headersSent) {
    response.destroy()
    return
  }
  const headers: string[] = ['Content-Type', 'text/plain; charset=utf-8', 'Content-Length', String(Buffer.byteLength(body))]
  if (backend) headers.push('X-Devenv-Backend', backend)
  response.writeHead(status, headers)
  response.end(body)
}

function rawResponse(socket: Duplex, status: number, body: string, extraLines = ''): void {
  if (socket.destroyed) return
  const reason = http.STATUS_CODES[status] ?? ''
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraLines}Connection: close\r\n\r\n${body}`)
}
