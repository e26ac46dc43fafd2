import { describe, expect, it } from 'vitest'
import { Burst, type Timers } from '../../src/watch/burst.js'

/** A clock that moves only when the test says so. */
class ManualClock implements Timers {
  private time = 0
  private pending: { at: number; callback: () => void; id: number }[] = []
  private nextId = 1
  now = () => this.time
  setTimeout = (callback: () => void, ms: number) => {
    const id = this.nextId++
    this.pending.push({ at: this.time + ms, callback, id })
    return id
  }
  clearTimeout = (handle: unknown) => {
    this.pending = this.pending.filter((timer) => timer.id !== handle)
  }
  async advance(ms: number): Promise<void> {
    const until = this.time + ms
    for (;;) {
      const due = this.pending.filter((timer) => timer.at <= until).sort((a, b) => a.at - b.at)[0]
      if (!due) break
      this.pending = this.pending.filter((timer) => timer !== due)
      this.time = due.at
      due.callback()
      await new Promise((resolve) => setImmediate(resolve))
    }
    this.time = until
  }
}

function setup(quietMs = 50, maxWaitMs = 1000) {
  const clock = new ManualClock()
  const fired: string[][] = []
  const errors: unknown[] = []
  let action: (paths: string[]) => void | Promise<void> = (paths) => {
    fired.push(paths)
  }
  const burst = new Burst((paths) => action(paths), { quietMs, maxWaitMs, timers: clock, onError: (error) => errors.push(error) })
  return { clock, fired, errors, burst, setAction: (next: typeof action) => (action = next) }
}

describe('Burst', () => {
  it('fires once, after the quiet period, with each path once and sorted', async () => {
    const { clock, fired, burst } = setup()
    for (let i = 0; i < 20; i++) {
      burst.add(i % 2 ? 'b.js' : 'a.js')
      await clock.advance(10)
    }
    expect(fired).toEqual([])
    // The last change was 10 ms ago: 39 more is still quiet-period, the 40th ends it.
    await clock.advance(39)
    expect(fired).toEqual([])
    await clock.advance(1)
    expect(fired).toEqual([['a.js', 'b.js']])
  })

  it('fires at least every maxWait during a burst that never goes quiet', async () => {
    const { clock, fired, burst } = setup(50, 200)
    for (let i = 0; i < 50; i++) {
      burst.add(`f${i}`)
      await clock.advance(10)
    }
    // 500 ms of changes every 10 ms, at most 200 ms held back each time.
    expect(fired.length).toBeGreaterThanOrEqual(2)
    expect(fired.length).toBeLessThanOrEqual(3)
  })

  it('holds changes made while the action runs and fires them after it, never overlapping', async () => {
    const { clock, fired, burst, setAction } = setup()
    let finish: () => void = () => {}
    let running = 0
    let overlapped = false
    setAction((paths) => {
      fired.push(paths)
      running++
      if (running > 1) overlapped = true
      return new Promise<void>((resolve) => {
        finish = () => {
          running--
          resolve()
        }
      })
    })
    burst.add('first')
    await clock.advance(50)
    expect(fired).toEqual([['first']])
    burst.add('second')
    await clock.advance(500)
    expect(fired).toHaveLength(1)
    finish()
    await new Promise((resolve) => setImmediate(resolve))
    await clock.advance(50)
    expect(fired).toEqual([['first'], ['second']])
    expect(overlapped).toBe(false)
  })

  it('reports a failing action and keeps going', async () => {
    const { clock, errors, burst, setAction, fired } = setup()
    setAction(() => {
      throw new Error('boom')
    })
    burst.add('x')
    await clock.advance(50)
    expect(errors).toHaveLength(1)
    setAction((paths) => {
      fired.push(paths)
    })
    burst.add('y')
    await clock.advance(50)
    expect(fired).toEqual([['y']])
  })

  it('drops a pending burst on close', async () => {
    const { clock, fired, burst } = setup()
    burst.add('x')
    burst.close()
    await clock.advance(100)
    burst.add('y')
    await clock.advance(100)
    expect(fired).toEqual([])
  })
})
