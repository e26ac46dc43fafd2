/** The clock the debounce runs on; injected so tests need not sleep. */
export interface Timers {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
  /**
   * Runs `callback` once the I/O already waiting has been handled. A process that was not scheduled
   * for longer than the quiet period (a loaded machine) runs its due timers before reading the
   * file-system events queued meanwhile; deferring the end of a burst lets those events in first.
   */
  defer?(callback: () => void): void
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
  // Not unref'd: an unref'd immediate does not stop the poll phase from blocking, so it would
  // wait for the next unrelated event (measured: up to seconds in the supervisor).
  defer: (callback) => {
    setImmediate(callback)
  },
}

export interface BurstOptions {
  /** Quiet period that ends a burst. */
  quietMs: number
  /**
   * The shorter quiet period that ends a burst of nothing but changes to files that were there
   * before it (a save written in place, as most editors and every `>` do): the long one guards
   * saves that remove or rename the file first (vim's backup dance), which add or unlink events
   * show. Undefined: always `quietMs`.
   */
  settledQuietMs?: number
  /** A burst that never goes quiet (a build writing for a minute) still fires this often. */
  maxWaitMs: number
  timers: Timers
  onError(error: unknown): void
  /** Is the path gone now? (For dropping temporary files: see `transient`.) */
  isGone?(path: string): boolean
}

export interface ActionSignals {
  /** Aborted when the burst is closed (watching stops): a long action should give up. */
  closed: AbortSignal
  /** Aborted as well when more changes come while the action runs (they form the next burst). */
  superseded: AbortSignal
}

/**
 * Collects the paths of a burst of changes and hands them on once the burst is over.
 * One action at a time: changes made while an action runs form the next burst, which
 * fires once the action is done, so a restart never overlaps the previous one.
 */
export class Burst {
  private readonly paths = new Set<string>()
  /** Paths that did not exist when this burst began: created and deleted again, they changed nothing. */
  private readonly created = new Set<string>()
  private readonly droppedBefore = new Set<string>()
  private firstAt: number | undefined
  /** Every event of the burst so far was a `change` of a file already there. */
  private onlyChanges = true
  private timer: unknown
  /** The schedule a deferred flush belongs to: a newer one (touch, add) cancels it. */
  private due?: object
  private running = false
  private action?: Promise<void>
  private closed = false
  private readonly closing = new AbortController()
  private superseding?: AbortController

  constructor(
    private readonly fire: (paths: string[], signals: ActionSignals) => void | Promise<void>,
    private readonly options: BurstOptions,
  ) {}

  /**
   * `event` is chokidar's: a path added and then unlinked within one burst (a safe save's temporary
   * file, a build's scratch file) is dropped, and a burst of nothing but such paths does nothing.
   */
  add(changed: string, event?: string): void {
    if (this.closed) return
    if ((event === 'unlink' || event === 'unlinkDir') && this.created.has(changed)) {
      this.created.delete(changed)
      this.paths.delete(changed)
    } else {
      if ((event === 'add' || event === 'addDir') && !this.paths.has(changed)) this.created.add(changed)
      this.paths.add(changed)
    }
    this.firstAt ??= this.options.timers.now()
    if (event !== 'change') this.onlyChanges = false
    if (this.paths.size > 0) this.superseding?.abort()
    this.schedule()
  }

  /**
   * Drops what is pending and resolves once a running action is over, so whoever stops watching
   * (to stop the service) never races an action that would start it again.
   */
  async close(): Promise<void> {
    this.closed = true
    this.cancelTimer()
    this.onlyChanges = true
    this.paths.clear()
    this.created.clear()
    this.closing.abort()
    await this.action
  }

  /**
   * Created during the burst (or dropped as such before) and gone by its end: it changed nothing.
   * Remembering earlier drops matters under load, where chokidar may report a temporary file that a
   * fast loop of saves keeps recreating as added after its unlink: the next burst then starts with
   * that unlink, which would otherwise pass for a deleted file.
   */
  private transient(changed: string): boolean {
    if (!this.options.isGone) return false
    if (!this.options.isGone(changed)) {
      this.droppedBefore.delete(changed)
      return false
    }
    if (!this.created.has(changed) && !this.droppedBefore.has(changed)) return false
    if (this.droppedBefore.size >= 1000) this.droppedBefore.clear()
    this.droppedBefore.add(changed)
    return true
  }

  /**
   * Something happened in the folder that is not (yet) a reported change, such as a raw event that
   * chokidar is still looking into: a pending burst is not over yet.
   */
  touch(): void {
    if (this.closed || this.running || this.paths.size === 0) return
    this.schedule()
  }

  private schedule(): void {
    if (this.running) return
    this.cancelTimer()
    const waited = this.options.timers.now() - (this.firstAt ?? this.options.timers.now())
    const quiet = this.onlyChanges ? (this.options.settledQuietMs ?? this.options.quietMs) : this.options.quietMs
    const delay = Math.max(0, Math.min(quiet, this.options.maxWaitMs - waited))
    const due = {}
    this.due = due
    this.timer = this.options.timers.setTimeout(() => {
      this.timer = undefined
      const flush = () => {
        if (this.due === due) void this.flush()
      }
      if (this.options.timers.defer) this.options.timers.defer(flush)
      else flush()
    }, delay)
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) this.options.timers.clearTimeout(this.timer)
    this.timer = undefined
    this.due = undefined
  }

  private async flush(): Promise<void> {
    this.timer = undefined
    this.due = undefined
    if (this.closed) return
    const batch = [...this.paths].filter((changed) => !this.transient(changed)).sort()
    this.paths.clear()
    this.created.clear()
    this.firstAt = undefined
    this.onlyChanges = true
    if (batch.length === 0) return
    this.running = true
    this.superseding = new AbortController()
    const signals = {
      closed: this.closing.signal,
      superseded: AbortSignal.any([this.closing.signal, this.superseding.signal]),
    }
    const action = (async () => this.fire(batch, signals))()
    this.action = action.then(
      () => undefined,
      () => undefined,
    )
    try {
      await action
    } catch (error) {
      this.options.onError(error)
    } finally {
      this.running = false
      this.action = undefined
      this.superseding = undefined
      if (!this.closed && this.paths.size > 0) this.schedule()
    }
  }
}
