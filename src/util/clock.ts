import { setTimeout as delay } from 'node:timers/promises'

/** Time as a dependency, so retry, backoff and health-check logic can be tested without sleeping. */
export interface Clock {
  now(): number
  sleep(ms: number, signal?: AbortSignal): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, signal ? { signal } : undefined)
  },
}
