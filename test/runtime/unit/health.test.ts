import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProbeResult } from '../../../src/boxes/driver.js'
import type { HealthSpec } from '../../../src/envfile/model.js'
import { HealthMonitor, httpProbe, tcpProbe, type HealthStatus } from '../../../src/runtime/probes.js'
import { FakeClock, settle } from './fake-clock.js'

const SPEC: HealthSpec = {
  check: { kind: 'tcp', port: 1 },
  intervalMs: 1000,
  timeoutMs: 200,
  retries: 3,
  startPeriodMs: 0,
}

/** A probe that answers from a script, then keeps answering its last result; records when it was asked. */
function scripted(
  results: boolean[],
  clock: FakeClock,
): { probe: (timeout: number) => Promise<ProbeResult>; calls: number[] } {
  const calls: number[] = []
  let index = 0
  return {
    calls,
    probe: async () => {
      calls.push(clock.now())
      const ok = results[Math.min(index++, results.length - 1)]!
      return ok ? { ok: true } : { ok: false, reason: `refused #${index}` }
    },
  }
}

function monitor(results: boolean[], spec: Partial<HealthSpec> = {}) {
  const clock = new FakeClock()
  const { probe, calls } = scripted(results, clock)
  const changes: Array<{ status: HealthStatus; reason: string; at: number }> = []
  const health = new HealthMonitor(probe, { ...SPEC, ...spec }, clock, (status, reason) =>
    changes.push({ status, reason, at: clock.now() }),
  )
  return { clock, calls, changes, health }
}

describe('HealthMonitor', () => {
  it('polls fast until the first success (a connection every 10 ms), then every interval', async () => {
    const { clock, calls, changes, health } = monitor([false, false, true])
    health.start()
    await clock.advance(20)
    expect(changes).toEqual([{ status: 'healthy', reason: '', at: 20 }])
    expect(calls).toEqual([0, 10, 20])
    await clock.advance(2999)
    expect(calls).toEqual([0, 10, 20, 1020, 2020])
    await clock.advance(1)
    expect(calls).toEqual([0, 10, 20, 1020, 2020, 3020])
    health.stop()
  })

  it('a command probe, a process each time, polls every 25 ms while starting', async () => {
    const { clock, calls, changes, health } = monitor([false, false, true], {
      check: { kind: 'command', command: 'true' },
    })
    health.start()
    await clock.advance(50)
    expect(changes).toEqual([{ status: 'healthy', reason: '', at: 50 }])
    expect(calls).toEqual([0, 25, 50])
    health.stop()
  })

  it('started as passed (the box checked its readiness itself), it is healthy at once and probes after an interval', async () => {
    const { clock, calls, changes, health } = monitor([true])
    health.start(true)
    expect(changes).toEqual([{ status: 'healthy', reason: '', at: 0 }])
    await clock.advance(999)
    expect(calls).toEqual([])
    await clock.advance(1)
    expect(calls).toEqual([1000])
    health.stop()
  })

  it('failures while starting never count: a slow service stays starting, not unhealthy', async () => {
    const { clock, changes, health } = monitor([false])
    health.start()
    await clock.advance(10_000)
    expect(changes).toEqual([])
    expect(health.status).toBe('starting')
    expect(health.lastReason).toMatch(/refused/)
    health.stop()
  })

  it('turns unhealthy after `retries` failures in a row, and healthy again after one success', async () => {
    const { clock, changes, health } = monitor([true, false, false, true, false, false, false, true], { retries: 3 })
    health.start()
    await clock.advance(0)
    expect(health.status).toBe('healthy')
    await clock.advance(3000) // false, false, true: two failures are not enough
    expect(changes.map((change) => change.status)).toEqual(['healthy'])
    await clock.advance(3000) // false x3
    expect(changes.at(-1)).toEqual({ status: 'unhealthy', reason: 'refused #7', at: 6000 })
    await clock.advance(1000)
    expect(changes.map((change) => change.status)).toEqual(['healthy', 'unhealthy', 'healthy'])
    health.stop()
  })

  it('waits out a start period before the first probe', async () => {
    const { clock, calls, health } = monitor([true], { startPeriodMs: 5000 })
    health.start()
    await clock.advance(199)
    expect(calls).toEqual([])
    await clock.advance(1)
    expect(calls).toEqual([200])
    health.stop()
  })

  it('stop() ends the loop: no probe afterwards, no timer left', async () => {
    const { clock, calls, health } = monitor([true])
    health.start()
    await clock.advance(1000)
    const before = calls.length
    health.stop()
    await settle()
    await clock.advance(10_000)
    expect(calls.length).toBe(before)
    expect(clock.pending).toBe(0)
  })
})

describe('tcp and http probes on real sockets', () => {
  let server: http.Server
  let port: number
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      response.statusCode = request.url === '/broken' ? 500 : request.url === '/teapot' ? 418 : 200
      response.end('x')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as net.AddressInfo).port
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  const closedPort = async (): Promise<number> => {
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const { port: free } = probe.address() as net.AddressInfo
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    return free
  }

  it('tcp: ok on a listening port, the errno on a closed one', async () => {
    expect(await tcpProbe('127.0.0.1', port)(1000)).toEqual({ ok: true })
    const closed = await closedPort()
    expect(await tcpProbe('127.0.0.1', closed)(1000)).toEqual({
      ok: false,
      reason: `tcp 127.0.0.1:${closed}: ECONNREFUSED`,
    })
  })

  it('http: 2xx/3xx is healthy, else the status is named; an expected status is matched exactly', async () => {
    expect(await httpProbe('127.0.0.1', port, '/health')(1000)).toEqual({ ok: true })
    expect(await httpProbe('127.0.0.1', port, '/broken')(1000)).toEqual({
      ok: false,
      reason: 'GET /broken answered 500',
    })
    expect(await httpProbe('127.0.0.1', port, '/teapot', 418)(1000)).toEqual({ ok: true })
    expect(await httpProbe('127.0.0.1', port, '/health', 204)(1000)).toEqual({
      ok: false,
      reason: 'GET /health answered 200',
    })
    const closed = await closedPort()
    expect(await httpProbe('127.0.0.1', closed, '/health')(1000)).toEqual({
      ok: false,
      reason: expect.stringMatching(/ECONNREFUSED/),
    })
  })

  it('http: a server that never answers times out within the probe timeout', async () => {
    const silent = net.createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const silentPort = (silent.address() as net.AddressInfo).port
    try {
      expect(await httpProbe('127.0.0.1', silentPort, '/health')(150)).toEqual({
        ok: false,
        reason: 'GET /health: no answer in 150 ms',
      })
    } finally {
      silent.close()
    }
  })
})
