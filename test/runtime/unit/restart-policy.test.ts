import { describe, expect, it } from 'vitest'
import { RestartPolicy } from '../../../src/runtime/bundled/restart-policy.js'

const crash = { code: 1, signal: null }
const clean = { code: 0, signal: null }
const killed = { code: null, signal: 'SIGKILL' }

describe('RestartPolicy', () => {
  it('on-failure restarts crashes and kills, not clean exits', () => {
    const policy = new RestartPolicy({ policy: 'on-failure', maxRestarts: 5, backoffMs: 100 })
    expect(policy.afterExit(clean, 0)).toEqual({ action: 'stay-down', failed: false })
    expect(policy.afterExit(crash, 0)).toEqual({ action: 'restart', delayMs: 100 })
    expect(policy.afterExit(killed, 0)).toEqual({ action: 'restart', delayMs: 200 })
  })

  it('always restarts a clean exit too; no never restarts', () => {
    expect(new RestartPolicy({ policy: 'always', maxRestarts: 5, backoffMs: 100 }).afterExit(clean, 0).action).toBe(
      'restart',
    )
    expect(new RestartPolicy({ policy: 'no', maxRestarts: 5, backoffMs: 100 }).afterExit(crash, 0)).toEqual({
      action: 'stay-down',
      failed: true,
    })
  })

  it('backs off exponentially up to 10 s, and from the start again once recovered', () => {
    const policy = new RestartPolicy({ policy: 'always', maxRestarts: 100, backoffMs: 1000 })
    const delays = Array.from({ length: 6 }, (_, index) => policy.afterExit(crash, index * 61_000))
    expect(delays.map((decision) => (decision.action === 'restart' ? decision.delayMs : -1))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ])
    policy.recovered()
    expect(policy.afterExit(crash, 400_000)).toEqual({ action: 'restart', delayMs: 1000 })
  })

  it('gives up after max_restarts crashes within a minute, and counts only the last minute', () => {
    const policy = new RestartPolicy({ policy: 'on-failure', maxRestarts: 2, backoffMs: 10 })
    expect(policy.afterExit(crash, 0).action).toBe('restart')
    expect(policy.afterExit(crash, 1000).action).toBe('restart')
    const third = policy.afterExit(crash, 2000)
    expect(third).toMatchObject({ action: 'give-up' })
    expect(third.action === 'give-up' && third.message).toContain('crashed 3 times within a minute')
    const spaced = new RestartPolicy({ policy: 'on-failure', maxRestarts: 2, backoffMs: 10 })
    for (const minute of [0, 1, 2, 3, 4]) expect(spaced.afterExit(crash, minute * 61_000).action).toBe('restart')
  })

  it('fails after three quick deaths in a row that look the same, timestamps and pids aside', () => {
    const policy = new RestartPolicy({ policy: 'on-failure', maxRestarts: 10, backoffMs: 10 })
    const run = (pid: number) => ({
      durationMs: 200,
      firstError: `2026-12-01 08:0${pid}:00 UTC [${pid}] FATAL: could not write lock file`,
    })
    expect(policy.afterExit(crash, 0, run(1)).action).toBe('restart')
    expect(policy.afterExit(crash, 500, run(2)).action).toBe('restart')
    const third = policy.afterExit(crash, 1500, run(3))
    expect(third.action === 'give-up' && third.message).toMatch(
      /within a second of starting, 3 times in a row; not restarting: .*could not write lock file/,
    )
  })

  it('keeps restarting a service whose quick deaths differ, or that ran for a while in between', () => {
    const differing = new RestartPolicy({ policy: 'on-failure', maxRestarts: 10, backoffMs: 10 })
    for (const [index, error] of ['Error: a', 'Error: b', 'Error: a', 'Error: b'].entries())
      expect(differing.afterExit(crash, index, { durationMs: 100, firstError: error }).action).toBe('restart')
    const slow = new RestartPolicy({ policy: 'on-failure', maxRestarts: 10, backoffMs: 10 })
    for (const [index, durationMs] of [100, 100, 5000, 100, 100].entries())
      expect(slow.afterExit(crash, index, { durationMs, firstError: 'Error: a' }).action).toBe('restart')
  })
})
