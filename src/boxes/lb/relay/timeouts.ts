/** Something waiting on a backend that can be given up on. */
export interface Expirable {
  /** Sweeps since the backend last sent anything; reset by the exchange on every byte. */
  idleSweeps: number
  expire(): void
}

/**
 * Backend timeouts without a timer per request: one interval sweeps the exchanges in flight and
 * expires those whose backend has been silent for the whole timeout (to within a tenth of it).
 */
export class ExchangeTimeouts {
  private readonly waiting = new Set<Expirable>()
  private readonly limit: number
  private readonly timer: NodeJS.Timeout

  constructor(readonly timeoutMs: number) {
    const sweepMs = Math.max(10, Math.min(1000, Math.floor(timeoutMs / 10)))
    this.limit = Math.max(1, Math.round(timeoutMs / sweepMs))
    this.timer = setInterval(() => this.sweep(), sweepMs)
    this.timer.unref()
  }

  add(exchange: Expirable): void {
    exchange.idleSweeps = 0
    this.waiting.add(exchange)
  }

  delete(exchange: Expirable): void {
    this.waiting.delete(exchange)
  }

  stop(): void {
    clearInterval(this.timer)
    this.waiting.clear()
  }

  private sweep(): void {
    for (const exchange of this.waiting) {
      // One sweep more than the limit: never before the timeout, at most a tenth after it.
      if (++exchange.idleSweeps <= this.limit) continue
      this.waiting.delete(exchange)
      exchange.expire()
    }
  }
}
