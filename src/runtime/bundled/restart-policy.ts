import type { RestartSpec } from '../../envfile/model.js'

const CRASH_WINDOW_MS = 60_000
const MAX_BACKOFF_MS = 10_000

export type AfterExit =
  | { action: 'stay-down'; failed: boolean }
  | { action: 'give-up'; message: string }
  | { action: 'restart'; delayMs: number }

/**
 * What a service's restart policy says once its process has exited on its own: `no`, `on-failure`
 * (a non-zero exit or a signal) or `always`, with exponential backoff, and a crash-loop limit of
 * `maxRestarts` within a minute. Pure: the caller keeps the history and the clock.
 */
export class RestartPolicy {
  private crashes: number[] = []
  private consecutive = 0

  constructor(private readonly spec: RestartSpec) {}

  afterExit(exit: { code: number | null; signal: string | null }, now: number): AfterExit {
    const failed = exit.code !== 0 || exit.signal !== null
    const restart = this.spec.policy === 'always' || (this.spec.policy === 'on-failure' && failed)
    if (!restart) return { action: 'stay-down', failed }
    this.crashes = [...this.crashes.filter((time) => now - time < CRASH_WINDOW_MS), now]
    if (this.crashes.length > this.spec.maxRestarts) {
      return { action: 'give-up', message: `crashed ${this.crashes.length} times within a minute; not restarting (restart limit ${this.spec.maxRestarts})` }
    }
    this.consecutive++
    return { action: 'restart', delayMs: Math.min(this.spec.backoffMs * 2 ** (this.consecutive - 1), MAX_BACKOFF_MS) }
  }

  /** It became healthy again: the next crash starts the backoff from the beginning. */
  recovered(): void {
    this.consecutive = 0
  }
}
