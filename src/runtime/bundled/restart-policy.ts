import type { RestartSpec } from '../../envfile/index.js'

const CRASH_WINDOW_MS = 60_000
const MAX_BACKOFF_MS = 10_000
/** A run shorter than this died of how it starts (a missing module, a bad flag), not of what it met. */
export const QUICK_DEATH_MS = 1000
/** This many quick deaths in a row, each the same way: restarting again would only repeat it. */
export const QUICK_DEATHS_TO_FAIL = 3

/** How a run ended, for telling a crash loop that cannot get better from a flaky service. */
export interface RunSummary {
  durationMs: number
  /** The run's first error line, if it wrote one. */
  firstError?: string
}

export type AfterExit =
  | { action: 'stay-down'; failed: boolean }
  | { action: 'give-up'; message: string }
  | { action: 'restart'; delayMs: number }

/**
 * What a service's restart policy says once its process has exited on its own: `no`, `on-failure`
 * (a non-zero exit or a signal) or `always`, with exponential backoff, and a crash-loop limit of
 * `maxRestarts` within a minute. A service that dies the same way within a second of starting,
 * `QUICK_DEATHS_TO_FAIL` times in a row, fails at once (as systemd's start limit and
 * process-compose's do): its next run would die the same way. Pure: the caller keeps the clock.
 */
export class RestartPolicy {
  private crashes: number[] = []
  private consecutive = 0
  private quickDeaths: string[] = []

  constructor(private readonly spec: RestartSpec) {}

  afterExit(exit: { code: number | null; signal: string | null }, now: number, run?: RunSummary): AfterExit {
    const failed = exit.code !== 0 || exit.signal !== null
    const restart = this.spec.policy === 'always' || (this.spec.policy === 'on-failure' && failed)
    if (!restart) return { action: 'stay-down', failed }
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`
    const lastError = run?.firstError ? `: ${run.firstError}` : ''
    if (failed && run && run.durationMs < QUICK_DEATH_MS) {
      // Timestamps and pids differ from run to run; what the run said does not.
      const signature = `${how}\n${(run.firstError ?? '').replace(/\d+/g, '#')}`
      this.quickDeaths = this.quickDeaths.every((earlier) => earlier === signature)
        ? [...this.quickDeaths, signature]
        : [signature]
      if (this.quickDeaths.length >= QUICK_DEATHS_TO_FAIL) {
        return {
          action: 'give-up',
          message: `exited with ${how} within a second of starting, ${this.quickDeaths.length} times in a row; not restarting${lastError}`,
        }
      }
    } else {
      this.quickDeaths = []
    }
    this.crashes = [...this.crashes.filter((time) => now - time < CRASH_WINDOW_MS), now]
    if (this.crashes.length > this.spec.maxRestarts) {
      return {
        action: 'give-up',
        message: `crashed ${this.crashes.length} times within a minute; not restarting (restart limit ${this.spec.maxRestarts})${lastError}`,
      }
    }
    this.consecutive++
    return { action: 'restart', delayMs: Math.min(this.spec.backoffMs * 2 ** (this.consecutive - 1), MAX_BACKOFF_MS) }
  }

  /** It became healthy again: the next crash starts the backoff from the beginning. */
  recovered(): void {
    this.consecutive = 0
  }
}
