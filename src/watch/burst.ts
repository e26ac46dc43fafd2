/** The clock the debounce runs on; injected so tests need not sleep. */
export interface Timers {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

export const realTimers: Timers = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => {
    const handle = setTimeout(callback, ms)
    // A pending burst must not keep a process alive on its own.
    handle.unref?.()
    return handle
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
}

export interface BurstOptions {
  /** Quiet period that ends a burst. */
  quietMs: number
  /** A burst that never goes quiet (a build writing for a minute) still fires this often. */
  maxWaitMs: number
  timers: Timers
  onError(error: unknown): void
}

/**
 * Collects the paths of a burst of changes and hands them on once the burst is over.
 * One action at a time: changes made while an action runs form the next burst, which
 * fires once the action is done, so a restart never overlaps the previous one.
 */
export class Burst {
  private readonly paths = new Set<string>()
  private firstAt: number | undefined
  private timer: unknown
  private running = false
  private closed = false

  constructor(
    private readonly fire: (paths: string[]) => void | Promise<void>,
    private readonly options: BurstOptions,
  ) {}

  add(changed: string): void {
    if (this.closed) return
    this.paths.add(changed)
    this.firstAt ??= this.options.timers.now()
    this.schedule()
  }

  close(): void {
    this.closed = true
    this.cancelTimer()
    this.paths.clear()
  }

  private schedule(): void {
    if (this.running) return
    this.cancelTimer()
    const waited = this.options.timers.now() - (this.firstAt ?? this.options.timers.now())
    const delay = Math.max(0, Math.min(this.options.quietMs, this.options.maxWaitMs - waited))
    this.timer = this.options.timers.setTimeout(() => void this.flush(), delay)
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    this.timer = undefined
  }

  private async flush(): Promise<void> {
    this.timer = undefined
    if (this.closed || this.paths.size === 0) return
    const batch = [...this.paths].sort()
    this.paths.clear()
    this.firstAt = undefined
    this.running = true
    try {
      await this.fire(batch)
    } catch (error) {
      this.options.onError(error)
    } finally {
      this.running = false
      if (!this.closed && this.paths.size > 0) this.schedule()
    }
  }
}
