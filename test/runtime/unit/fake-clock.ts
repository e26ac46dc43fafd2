import type { Clock } from '../../../src/util/clock.js'

/** A clock the test moves by hand: sleep() resolves only when advance() passes its deadline. */
export class FakeClock implements Clock {
  private time = 0
  private timers: Array<{ at: number; resolve: () => void }> = []

  now(): number {
    return this.time
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'))
      const onAbort = (): void => {
        this.timers = this.timers.filter((candidate) => candidate !== timer)
        reject(new Error('aborted'))
      }
      const timer = {
        at: this.time + ms,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort)
          resolve()
        },
      }
      this.timers.push(timer)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Moves time forward, firing each due timer in order and letting the code it wakes run. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    for (;;) {
      await settle()
      const due = this.timers.filter((timer) => timer.at <= end).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.timers = this.timers.filter((timer) => timer !== due)
      this.time = due.at
      due.resolve()
    }
    this.time = end
    await settle()
  }

  get pending(): number {
    return this.timers.length
  }
}

/** Lets pending promise callbacks run (a macrotask turn, no real waiting). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
