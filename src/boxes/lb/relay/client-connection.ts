import type { Socket } from 'node:net'
import type { TLSSocket } from 'node:tls'
import { cookieValue } from '../headers.js'
import type { HealthChecker } from '../health.js'
import type { EventLog } from '../log.js'
import type { Backend, BackendPool } from '../pool.js'
import type { BackendConnection, ConnectionUser } from './backend-sockets.js'
import { ChunkedScanner } from './chunked.js'
import { parseRequestHead, type RequestHead } from './request-head.js'
import { parseResponseHead, type BodyFraming } from './response-head.js'
import type { ExchangeTimeouts, Expirable } from './timeouts.js'

export interface RelayContext {
  pool: BackendPool
  health: HealthChecker
  log: EventLog
  stickyCookie: string | undefined
  timeouts: ExchangeTimeouts
  /** Gives the connection to node's HTTP server; the bytes not yet handled are back in the socket. */
  handOver(socket: Socket): void
  /** Every relayed connection, so that closing the balancer can end them. */
  connections: Set<ClientConnection>
}

/** Safe to send again to another backend when the first refused or dropped the connection before answering. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
/** Failures that happen before a backend has seen the request, or when it died holding it (undefined: it closed). */
const RETRYABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'EHOSTUNREACH', undefined])
/** Pipelined bytes waiting behind the request in flight; beyond this the client is not read. */
const MAX_PENDING = 64 * 1024

/**
 * One client connection on the fast path: requests are read one at a time (pipelined ones wait
 * their turn, so answers cannot be mixed up), relayed over a keep-alive backend connection, and
 * the answer streamed back as it comes. The first request this path does not handle hands the
 * connection, with everything unread, to node's HTTP server for good.
 */
export class ClientConnection implements ConnectionUser, Expirable {
  idleSweeps = 0
  private pending: Buffer | undefined
  private request: RequestHead | undefined
  private requestText = ''
  private backend: Backend | undefined
  private connection: BackendConnection | undefined
  private attempts = 0
  private retriedFresh = false
  private setSticky = false
  /** Response bytes read before the head was complete. */
  private partial: Buffer | undefined
  private answered = false
  private headSent = false
  private framing: BodyFraming = 'none'
  private remaining = 0
  private scanner: ChunkedScanner | undefined
  private reusable = false
  private closeAfter = false
  private ended = false
  private closed = false
  private inLoop = false
  private readonly scheme: string
  private readonly clientAddress: string
  private readonly localPort: string

  constructor(
    private readonly socket: Socket,
    private readonly context: RelayContext,
    keepAliveTimeoutMs: number,
  ) {
    this.scheme = (socket as TLSSocket).encrypted ? 'https' : 'http'
    this.clientAddress = socket.remoteAddress ?? ''
    this.localPort = String(socket.localPort ?? 0)
    socket.setNoDelay(true)
    socket.setTimeout(keepAliveTimeoutMs)
    socket.on('data', this.onData)
    socket.on('end', this.onEnd)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
    socket.on('timeout', this.onTimeout)
    socket.on('drain', this.onDrain)
    context.connections.add(this)
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** Closing the balancer: a connection between requests goes now, one with a request in flight after it. */
  closeWhenIdle(): void {
    if (this.request) this.request.close = true
    else this.socket.destroy()
  }

  private readonly onData = (chunk: Buffer): void => {
    this.pending = this.pending ? Buffer.concat([this.pending, chunk]) : chunk
    if (this.request) {
      if (this.pending.length > MAX_PENDING) this.socket.pause()
      return
    }
    this.next()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    if (!this.request) this.next()
  }

  private readonly onError = (): void => {
    // 'close' follows and does the accounting.
  }

  private readonly onTimeout = (): void => {
    // Idle between requests; a request waiting on a slow backend is the backend timeout's business.
    if (!this.request) this.socket.destroy()
  }

  private readonly onDrain = (): void => {
    this.connection?.socket.resume()
  }

  private readonly onClose = (): void => {
    this.closed = true
    this.pending = undefined
    this.context.connections.delete(this)
    if (this.connection) this.dropBackend().destroy()
  }

  /** Starts the next complete request waiting, if any and if none is in flight. */
  private next(): void {
    if (this.inLoop) return
    this.inLoop = true
    while (!this.request && !this.closed) {
      const pending = this.pending
      if (!pending) {
        if (this.ended) this.socket.end()
        break
      }
      const head = parseRequestHead(pending)
      if (head === 'incomplete') {
        if (this.ended) this.socket.end()
        break
      }
      if (head === 'fallback') {
        this.handOver()
        break
      }
      this.pending = pending.length === head.length ? undefined : pending.subarray(head.length)
      this.start(head)
    }
    this.inLoop = false
    if (!this.closed && this.socket.isPaused() && (this.pending?.length ?? 0) <= MAX_PENDING) this.socket.resume()
  }

  private handOver(): void {
    const { socket } = this
    socket.off('data', this.onData)
    socket.off('end', this.onEnd)
    socket.off('error', this.onError)
    socket.off('close', this.onClose)
    socket.off('timeout', this.onTimeout)
    socket.off('drain', this.onDrain)
    socket.setTimeout(0)
    this.context.connections.delete(this)
    this.closed = true
    if (this.pending) socket.unshift(this.pending)
    this.pending = undefined
    this.context.handOver(socket)
    if (socket.isPaused()) socket.resume()
  }

  private start(request: RequestHead): void {
    const { context } = this
    this.request = request
    let sticky: Backend | undefined
    if (context.stickyCookie !== undefined && request.cookies) {
      for (const header of request.cookies) {
        const name = cookieValue(header, context.stickyCookie)
        if (name === undefined) continue
        const named = context.pool.get(name)
        if (named?.up) sticky = named
        break
      }
    }
    this.setSticky = sticky === undefined && context.stickyCookie !== undefined
    const backend = sticky ?? context.pool.pick()
    if (!backend) {
      context.log.event('no backend is up: answered 502')
      return this.answerError(502, 'no backend is up\n', undefined)
    }
    const forwardedFor = request.forwardedFor ? `${request.forwardedFor}, ${this.clientAddress}` : this.clientAddress
    this.requestText =
      `${request.method} ${request.target} HTTP/1.1\r\n${request.forwardedLines}` +
      `X-Forwarded-For: ${forwardedFor}\r\nX-Forwarded-Proto: ${this.scheme}\r\nX-Forwarded-Port: ${this.localPort}\r\n` +
      (request.host ? `X-Forwarded-Host: ${request.host}\r\n\r\n` : '\r\n')
    this.attempts = 0
    this.retriedFresh = false
    this.dispatch(backend, false)
  }

  private dispatch(backend: Backend, fresh: boolean): void {
    this.attempts += 1
    this.backend = backend
    backend.active += 1
    this.partial = undefined
    this.answered = false
    this.connection = backend.sockets.acquire(this, fresh)
    this.context.timeouts.add(this)
    this.connection.socket.write(this.requestText, 'latin1')
  }

  /** Ends the hold on the backend connection; the caller decides whether it is reused. */
  private dropBackend(): BackendConnection {
    const connection = this.connection!
    this.connection = undefined
    this.backend!.active -= 1
    this.context.timeouts.delete(this)
    return connection
  }

  onBackendData(connection: BackendConnection, chunk: Buffer): void {
    if (connection !== this.connection) return connection.destroy()
    this.idleSweeps = 0
    this.answered = true
    if (this.headSent) return this.relayBody(chunk, undefined)
    const data = this.partial ? Buffer.concat([this.partial, chunk]) : chunk
    let offset = 0
    for (;;) {
      const head = parseResponseHead(data, offset, this.request!.method === 'HEAD')
      if (head === 'incomplete') {
        this.partial = offset === 0 ? data : data.subarray(offset)
        return
      }
      if ('malformed' in head) return this.backendFailed(`sent a malformed response: ${head.malformed}`)
      offset += head.length
      if (head.status < 200) {
        if (head.status === 101) return this.backendFailed('switched protocols without being asked')
        // Interim answers (103 Early Hints) are the client's too (RFC 9110 §15.2).
        this.socket.write(`HTTP/1.1 ${head.status} ${head.reason}\r\n${head.lines}\r\n`, 'latin1')
        continue
      }
      this.partial = undefined
      this.headSent = true
      this.framing = head.framing
      this.remaining = head.contentLength
      this.scanner = head.framing === 'chunked' ? new ChunkedScanner() : undefined
      this.reusable = head.reusable
      this.closeAfter = this.request!.close || head.framing === 'until-close'
      const backend = this.backend!
      let text = `HTTP/1.1 ${head.status} ${head.reason}\r\n${head.lines}X-Devenv-Backend: ${backend.name}\r\n`
      if (this.setSticky) text += `Set-Cookie: ${this.context.stickyCookie}=${backend.name}; Path=/; HttpOnly; SameSite=Lax\r\n`
      text += this.closeAfter ? 'Connection: close\r\n\r\n' : '\r\n'
      return this.relayBody(offset === data.length ? EMPTY : data.subarray(offset), text)
    }
  }

  /** Passes on the body bytes in `chunk` (after `head`, when it has not gone yet) and ends the exchange with the body. */
  private relayBody(chunk: Buffer, head: string | undefined): void {
    let body = chunk
    let complete = false
    switch (this.framing) {
      case 'none':
        complete = true
        body = EMPTY
        if (chunk.length) this.reusable = false
        break
      case 'length':
        if (chunk.length >= this.remaining) {
          if (chunk.length > this.remaining) {
            this.reusable = false
            body = chunk.subarray(0, this.remaining)
          }
          this.remaining = 0
          complete = true
        } else this.remaining -= chunk.length
        break
      case 'chunked': {
        const end = this.scanner!.scan(chunk, 0)
        if (typeof end === 'string') {
          this.context.log.event(`error: ${this.request!.method} ${this.request!.target} on ${this.backend!.name}: ${end}`)
          this.dropBackend().destroy()
          this.socket.destroy()
          return
        }
        if (end >= 0) {
          complete = true
          if (end < chunk.length) {
            this.reusable = false
            body = chunk.subarray(0, end)
          }
        }
        break
      }
      case 'until-close':
        break
    }
    const { socket } = this
    if (head !== undefined && body.length) {
      socket.cork()
      socket.write(head, 'latin1')
      socket.write(body)
      socket.uncork()
    } else if (head !== undefined) socket.write(head, 'latin1')
    else if (body.length) socket.write(body)
    if (complete) return this.finishExchange()
    // The client reads slower than the backend writes: stop reading the backend until it drains.
    if (socket.writableNeedDrain) this.connection!.socket.pause()
  }

  private finishExchange(): void {
    const backend = this.backend!
    const connection = this.dropBackend()
    if (this.reusable) backend.sockets.release(connection)
    else connection.destroy()
    this.endRequest()
  }

  /** The request is over (answered, or the connection is closing): on to the next one. */
  private endRequest(): void {
    const close = this.closeAfter
    this.request = undefined
    this.headSent = false
    this.closeAfter = false
    this.scanner = undefined
    if (close) {
      this.pending = undefined
      this.socket.end()
      return
    }
    this.next()
  }

  onBackendClose(connection: BackendConnection, error: string | undefined): void {
    if (connection !== this.connection) return
    const backend = this.backend!
    this.dropBackend()
    if (this.headSent) {
      // A body that runs until the backend closes is complete now; any other is cut short.
      if (this.framing === 'until-close' && error === undefined) this.endRequest()
      else this.socket.destroy()
      return
    }
    const request = this.request!
    if (error === 'ECONNREFUSED') this.context.health.markDown(backend, `refused a connection on ${backend.address}:${backend.port}`)
    const retryable = !this.answered && IDEMPOTENT.has(request.method) && RETRYABLE.has(error)
    if (retryable) {
      // An idle connection the backend closed just as it was reused: once more on a new one.
      if (connection.reused && !this.retriedFresh && error !== 'ECONNREFUSED') {
        this.retriedFresh = true
        return this.dispatch(backend, true)
      }
      const other = this.attempts <= this.context.pool.backends.length ? this.context.pool.pick(backend) : undefined
      if (other) return this.dispatch(other, false)
    }
    const why = error ?? (this.answered ? 'closed the connection in the middle of the response head' : 'closed the connection without answering')
    this.context.log.event(`error: ${request.method} ${request.target} on ${backend.name}: ${why}`)
    this.answerError(502, `backend ${backend.name} failed: ${why}\n`, backend.name)
  }

  /** A backend answered what cannot be passed on: 502 for the client, the connection dropped. */
  private backendFailed(why: string): void {
    const backend = this.backend!
    this.dropBackend().destroy()
    this.context.log.event(`error: ${this.request!.method} ${this.request!.target} on ${backend.name}: ${why}`)
    this.answerError(502, `backend ${backend.name} ${why}\n`, backend.name)
  }

  expire(): void {
    const backend = this.backend!
    const connection = this.connection!
    this.connection = undefined
    backend.active -= 1
    connection.destroy()
    if (this.headSent) {
      this.socket.destroy()
      return
    }
    const { timeoutMs } = this.context.timeouts
    this.context.log.event(`timeout: ${this.request!.method} ${this.request!.target} on ${backend.name}: no answer within ${timeoutMs} ms`)
    this.answerError(504, `backend ${backend.name} did not answer within ${timeoutMs} ms\n`, backend.name)
  }

  private answerError(status: number, body: string, backend: string | undefined): void {
    this.closeAfter = this.request!.close
    this.socket.write(
      `HTTP/1.1 ${status} ${status === 504 ? 'Gateway Timeout' : 'Bad Gateway'}\r\nContent-Type: text/plain; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n${backend ? `X-Devenv-Backend: ${backend}\r\n` : ''}` +
        `${this.closeAfter ? 'Connection: close\r\n' : ''}\r\n${body}`,
    )
    this.endRequest()
  }
}

const EMPTY = Buffer.alloc(0)
