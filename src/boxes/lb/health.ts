import http from 'node:http'
import net from 'node:net'
import type { Backend } from './pool.js'

export interface HealthOptions {
  intervalMs: number
  fall: number
  rise: number
  log(line: string): void
}

/**
 * Active checks: every interval, each backend gets one check (HTTP GET of its health path, or a TCP
 * connect); `fall` failures in a row take it out, `rise` passes bring it back.
 */
export class HealthChecker {
  private timers = new Set<NodeJS.Timeout>()
  private stopped = false

  constructor(
    private readonly backends: Backend[],
    private readonly options: HealthOptions,
  ) {}

  start(): void {
    for (const backend of this.backends) this.schedule(backend, 0)
  }

  /** A backend that joined the pool after the start gets its checks too. */
  watch(backend: Backend): void {
    this.schedule(backend, 0)
  }

  stop(): void {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  /** A request found the backend refusing connections: out now, without waiting for the checks. */
  markDown(backend: Backend, reason: string): void {
    backend.streak = 0
    if (!backend.up) return
    backend.up = false
    backend.lastError = reason
    this.options.log(`backend ${backend.name} (${backend.address}:${backend.port}) is down: ${reason}`)
  }

  /** The supervisor says the backend is ready (it passed the same check there): in now, without waiting for `rise` checks. */
  markUp(backend: Backend, reason: string): void {
    backend.streak = 0
    backend.proven = true
    if (backend.up) return
    backend.up = true
    this.options.log(`backend ${backend.name} (${backend.address}:${backend.port}) is up: ${reason}`)
  }

  private schedule(backend: Backend, delay: number): void {
    if (this.stopped || backend.retired) return
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      // Every 100 ms until a backend first passes (the stack is starting), then every interval.
      void this.checkOnce(backend).then(() => this.schedule(backend, backend.proven ? this.options.intervalMs : Math.min(100, this.options.intervalMs)))
    }, delay)
    this.timers.add(timer)
  }

  private async checkOnce(backend: Backend): Promise<void> {
    const failure = await check(backend, Math.max(this.options.intervalMs * 2, 1000))
    if (this.stopped) return
    if (failure === undefined) {
      const firstPass = !backend.proven
      backend.proven = true
      if (backend.up) {
        backend.streak = 0
        return
      }
      backend.streak += 1
      if (backend.streak >= this.options.rise || firstPass) {
        backend.up = true
        backend.streak = 0
        this.options.log(`backend ${backend.name} (${backend.address}:${backend.port}) is up`)
      }
      return
    }
    if (!backend.up) {
      backend.streak = 0
      return
    }
    backend.streak += 1
    backend.lastError = failure
    if (backend.streak >= this.options.fall) this.markDown(backend, failure)
  }
}

/** undefined when healthy, else why not. */
function check(backend: Backend, timeoutMs: number): Promise<string | undefined> {
  const spec = backend.config.check
  return new Promise((resolve) => {
    let settled = false
    const settle = (failure: string | undefined): void => {
      if (settled) return
      settled = true
      resolve(failure)
    }
    if (spec.kind === 'tcp') {
      const socket = net.connect({ host: backend.address, port: spec.port })
      socket.setTimeout(timeoutMs, () => {
        socket.destroy()
        settle(`no TCP answer on port ${spec.port} within ${timeoutMs} ms`)
      })
      socket.once('connect', () => {
        socket.destroy()
        settle(undefined)
      })
      socket.once('error', (error: NodeJS.ErrnoException) => settle(`TCP ${spec.port}: ${error.code ?? error.message}`))
      return
    }
    // A fresh connection each time (agent: false): a check must see a backend that stopped accepting.
    const request = http.get({ host: backend.address, port: spec.port, path: spec.path, agent: false, headers: { 'user-agent': 'devenv-lb-health' } }, (response) => {
      response.resume()
      const status = response.statusCode ?? 0
      const good = spec.status !== undefined ? status === spec.status : status >= 200 && status < 400
      settle(good ? undefined : `GET ${spec.path} answered ${status}`)
    })
    request.setTimeout(timeoutMs, () => {
      request.destroy()
      settle(`GET ${spec.path}: no answer within ${timeoutMs} ms`)
    })
    request.once('error', (error: NodeJS.ErrnoException) => settle(`GET ${spec.path}: ${error.code ?? error.message}`))
  })
}
