import http from 'node:http'
import type { LbStrategy } from '../../envfile/index.js'
import type { BackendConfig } from './config.js'
import { BackendSockets } from './relay/backend-sockets.js'

/** One backend as the balancer sees it: where, whether it is up, how busy, and its keep-alive connections. */
export class Backend {
  readonly name: string
  readonly address: string
  readonly port: number
  /** Keep-alive connections of node's HTTP client, for what the relay hands over (bodies, upgrades). */
  readonly agent: http.Agent
  /** Keep-alive connections of the fast relay. */
  readonly sockets: BackendSockets
  up = true
  /** Has it ever passed a check? One that never has (still starting with the stack) comes up on its first pass. */
  proven = false
  /** Requests in flight: least-conn's measure. */
  active = 0
  /** Consecutive passed or failed checks, towards rise/fall. */
  streak = 0
  lastError = ''
  /** Taken out of the pool (its name no longer resolves to its address): its checks end. */
  retired = false

  constructor(
    readonly config: BackendConfig,
    timeoutMs: number,
  ) {
    this.name = config.name
    this.address = config.address
    this.port = config.port
    // LIFO keeps a few hot sockets busy instead of spreading load over many cold ones.
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo', timeout: timeoutMs })
    this.sockets = new BackendSockets(config.address, config.port)
  }
}

/** The backends and the choice of one per request. */
export class BackendPool {
  readonly backends: Backend[]
  private readonly byName = new Map<string, Backend>()
  private next = 0

  constructor(
    configs: BackendConfig[],
    private readonly strategy: LbStrategy,
    private readonly timeoutMs: number,
  ) {
    this.backends = configs.map((config) => new Backend(config, timeoutMs))
    for (const backend of this.backends) this.byName.set(backend.name, backend)
  }

  get(name: string): Backend | undefined {
    return this.byName.get(name)
  }

  /**
   * Puts `configs` in the place of the backends standing for `group` (itself, or the addresses it
   * resolved to before); those with the same name stay, with their state. The ones added are returned.
   */
  replace(group: string, configs: BackendConfig[]): Backend[] {
    const wanted = new Set(configs.map((config) => config.name))
    const standing = (backend: Backend): boolean => backend.name === group || backend.config.group === group
    for (const backend of this.backends.filter((backend) => standing(backend) && !wanted.has(backend.name))) {
      backend.retired = true
      backend.agent.destroy()
      backend.sockets.close()
      this.byName.delete(backend.name)
    }
    const kept = this.backends.filter((backend) => !backend.retired)
    const added = configs.filter((config) => !this.byName.has(config.name)).map((config) => new Backend(config, this.timeoutMs))
    this.backends.splice(0, this.backends.length, ...kept, ...added)
    for (const backend of added) this.byName.set(backend.name, backend)
    return added
  }

  /**
   * A backend that is up and not `tried`. When none is up but some have never passed a check yet
   * (the stack is still starting: the lb often starts before its backends), one of those is tried
   * all the same: a request that may well succeed beats a certain 502. Undefined when none is left.
   */
  pick(tried?: Backend): Backend | undefined {
    const up = this.strategy === 'least-conn' ? this.leastBusy(tried) : this.roundRobin(tried)
    return up ?? this.roundRobin(tried, true)
  }

  private roundRobin(tried?: Backend, unprovenToo = false): Backend | undefined {
    const count = this.backends.length
    for (let step = 0; step < count; step++) {
      const backend = this.backends[(this.next + step) % count]!
      if ((backend.up || (unprovenToo && !backend.proven)) && backend !== tried) {
        this.next = (this.next + step + 1) % count
        return backend
      }
    }
    return undefined
  }

  private leastBusy(tried?: Backend): Backend | undefined {
    const count = this.backends.length
    let best: Backend | undefined
    // Start after the last choice so that equally idle backends take turns.
    for (let step = 0; step < count; step++) {
      const backend = this.backends[(this.next + step) % count]!
      if (!backend.up || backend === tried) continue
      if (!best || backend.active < best.active) best = backend
    }
    if (best) this.next = (this.backends.indexOf(best) + 1) % count
    return best
  }

  close(): void {
    for (const backend of this.backends) {
      backend.agent.destroy()
      backend.sockets.close()
    }
  }
}
