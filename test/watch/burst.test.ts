import { describe, expect, it } from 'vitest'
import { Burst, type ActionSignals, type Timers } from '../../src/watch/burst.js'

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

function setup(quietMs = 50, maxWaitMs = 1000, existing?: Set<string>, settledQuietMs?: number) {
  const clock = new ManualClock()
  const fired: string[][] = []
  const errors: unknown[] = []
  let action: (paths: string[], signals: ActionSignals) => void | Promise<void> = (paths) => {
    fired.push(paths)
  }
  const burst = new Burst((paths, signals) => action(paths, signals), {
    quietMs,
    maxWaitMs,
    timers: clock,
    onError: (error) => errors.push(error),
    ...(existing ? { isGone: (path: string) => !existing.has(path) } : {}),
    ...(settledQuietMs !== undefined ? { settledQuietMs } : {}),
  })
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

  it('ends a burst of in-place changes after the short quiet period, and any other burst after the long one', async () => {
    const { clock, fired, burst } = setup(100, 1000, new Set(['app.js', 'app.js~']), 30)
    burst.add('app.js', 'change')
    await clock.advance(1)
    burst.add('app.js', 'change')
    await clock.advance(29)
    expect(fired).toEqual([])
    await clock.advance(1)
    expect(fired).toEqual([['app.js']])

    // vim's backup dance: the file is renamed away, written anew some 70 ms later, the backup deleted.
    burst.add('app.js', 'unlink')
    burst.add('app.js~', 'add')
    await clock.advance(70)
    expect(fired).toHaveLength(1)
    burst.add('app.js', 'add')
    burst.add('app.js', 'change')
    await clock.advance(30)
    expect(fired).toHaveLength(1)
    await clock.advance(70)
    expect(fired).toEqual([['app.js'], ['app.js', 'app.js~']])

    // The next burst of changes only is short again.
    burst.add('app.js', 'change')
    await clock.advance(30)
    expect(fired).toHaveLength(3)
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
    void burst.close()
    await clock.advance(100)
    burst.add('y')
    await clock.advance(100)
    expect(fired).toEqual([])
  })

  it("drops a file created and deleted within the burst (a safe save's temporary file)", async () => {
    const { clock, fired, burst } = setup()
    burst.add('.index.html.tmp', 'add')
    burst.add('.index.html.tmp', 'change')
    burst.add('.index.html.tmp', 'unlink')
    burst.add('index.html', 'change')
    await clock.advance(100)
    expect(fired).toEqual([['index.html']])
  })

  it('does nothing for a burst of only transient files, and still reports a file deleted for real', async () => {
    const { clock, fired, burst } = setup()
    burst.add('scratch', 'add')
    burst.add('scratch', 'unlink')
    await clock.advance(100)
    expect(fired).toEqual([])
    burst.add('server.js', 'unlink')
    burst.add('server.js', 'add')
    burst.add('gone.js', 'unlink')
    await clock.advance(100)
    expect(fired).toEqual([['gone.js', 'server.js']])
  })

  it("close() aborts the running action's signals and resolves only once the action is over", async () => {
    const { clock, burst, setAction } = setup()
    let seen: ActionSignals | undefined
    let finish = () => {}
    setAction((_paths, signals) => {
      seen = signals
      return new Promise<void>((resolve) => {
        finish = resolve
      })
    })
    burst.add('server.js')
    await clock.advance(50)
    expect(seen?.closed.aborted).toBe(false)
    let closed = false
    const closing = burst.close().then(() => (closed = true))
    expect(seen?.closed.aborted).toBe(true)
    expect(seen?.superseded.aborted).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    expect(closed).toBe(false)
    finish()
    await closing
    expect(closed).toBe(true)
  })

  it('a change during the action supersedes it (and forms the next burst); the closed signal stays', async () => {
    const { clock, burst, setAction, fired } = setup()
    const seen: ActionSignals[] = []
    setAction((paths, signals) => {
      fired.push(paths)
      seen.push(signals)
      return new Promise<void>((resolve) => signals.superseded.addEventListener('abort', () => resolve()))
    })
    burst.add('server.js')
    await clock.advance(50)
    expect(seen[0]!.superseded.aborted).toBe(false)
    burst.add('server.js')
    expect(seen[0]!.superseded.aborted).toBe(true)
    expect(seen[0]!.closed.aborted).toBe(false)
    await new Promise((resolve) => setImmediate(resolve))
    await clock.advance(50)
    expect(fired).toEqual([['server.js'], ['server.js']])
    expect(seen[1]!.superseded.aborted).toBe(false)
    await burst.close().catch(() => undefined)
  })

  it('drops a file created in the burst and gone by its end, also when a later burst reports it out of order', async () => {
    const existing = new Set(['index.html', 'old.css'])
    const { clock, fired, burst } = setup(50, 1000, existing)
    // chokidar, late, saw the temporary file of a save still there: added, but no unlink (yet).
    burst.add('.index.html.tmp', 'add')
    burst.add('index.html', 'change')
    await clock.advance(100)
    // The unlink comes with the next save; the file is gone, but it never existed before that save.
    burst.add('.index.html.tmp', 'unlink')
    burst.add('.index.html.tmp', 'add')
    burst.add('index.html', 'change')
    burst.add('old.css', 'unlink')
    existing.delete('old.css')
    await clock.advance(100)
    expect(fired).toEqual([['index.html'], ['index.html', 'old.css']])
  })

  it('lets events already waiting in when its timer fires late: a touch before the deferred end extends the burst', async () => {
    const clock = new ManualClock()
    const deferred: (() => void)[] = []
    const timers: Timers = {
      now: clock.now,
      setTimeout: clock.setTimeout,
      clearTimeout: clock.clearTimeout,
      defer: (callback) => deferred.push(callback),
    }
    const fired: string[][] = []
    const burst = new Burst(
      (paths) => {
        fired.push(paths)
      },
      { quietMs: 50, maxWaitMs: 1000, timers, onError: () => {} },
    )
    burst.add('a.js')
    await clock.advance(60)
    expect(deferred).toHaveLength(1)
    // The process was away: a raw event and a change were queued and are handled before the deferred end.
    burst.touch()
    burst.add('b.js')
    deferred.shift()!()
    expect(fired).toEqual([])
    await clock.advance(60)
    deferred.shift()!()
    await new Promise((resolve) => setImmediate(resolve))
    expect(fired).toEqual([['a.js', 'b.js']])
    burst.touch()
    await clock.advance(100)
    expect(deferred).toHaveLength(0)
  })
})
