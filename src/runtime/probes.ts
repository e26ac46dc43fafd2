import { spawn } from 'node:child_process'
import http from 'node:http'
import net from 'node:net'
import type { BoxDriver, Endpoint, ProbeResult, ServiceContext } from '../boxes/index.js'
import type { HealthSpec, ServiceSpec } from '../envfile/index.js'
import type { Clock } from '../util/clock.js'
import { signalGroup } from '../util/process-group.js'

/** One readiness check. tcp and http run in-process: no process is spawned per check. */
export type Probe = (timeoutMs: number) => Promise<ProbeResult>

/** The probe of a service's declared health check, at its bound ports; undefined when it declares none. */
export function serviceProbe(
  spec: ServiceSpec,
  bound: Endpoint,
  driver: BoxDriver,
  context: ServiceContext,
): Probe | undefined {
  const check = spec.health?.check
  if (!check) return undefined
  switch (check.kind) {
    case 'tcp':
      return tcpProbe(bound.address, bound.port(check.port))
    case 'http':
      return httpProbe(bound.address, bound.port(check.port), check.path, check.status)
    case 'command':
      return commandProbe(check.command, context.env, spec.workdir)
    case 'box':
      return driver.probe ? () => driver.probe!(context) : tcpProbe(bound.address, bound.port(spec.ports[0] ?? 0))
  }
}

export function tcpProbe(address: string, port: number): Probe {
  return (timeoutMs) =>
    new Promise((resolve) => {
      const socket = net.connect({ host: address, port })
      const finish = (result: ProbeResult): void => {
        socket.destroy()
        resolve(result)
      }
      socket.setTimeout(timeoutMs, () =>
        finish({ ok: false, reason: `tcp ${address}:${port}: no answer in ${timeoutMs} ms` }),
      )
      socket.once('connect', () => finish({ ok: true }))
      socket.once('error', (error: NodeJS.ErrnoException) =>
        finish({ ok: false, reason: `tcp ${address}:${port}: ${error.code ?? error.message}` }),
      )
    })
}

export function httpProbe(address: string, port: number, path: string, expectedStatus?: number): Probe {
  return (timeoutMs) =>
    new Promise((resolve) => {
      const request = http.get(
        { host: address, port, path, agent: false, timeout: timeoutMs, headers: { 'user-agent': 'devenv-health' } },
        (response) => {
          response.resume()
          const status = response.statusCode ?? 0
          const ok = expectedStatus !== undefined ? status === expectedStatus : status >= 200 && status < 400
          resolve(ok ? { ok: true } : { ok: false, reason: `GET ${path} answered ${status}` })
        },
      )
      request.once('timeout', () => {
        request.destroy()
        resolve({ ok: false, reason: `GET ${path}: no answer in ${timeoutMs} ms` })
      })
      request.once('error', (error: NodeJS.ErrnoException) =>
        resolve({ ok: false, reason: `GET http://${address}:${port}${path}: ${error.code ?? error.message}` }),
      )
    })
}

export function commandProbe(command: string, env: Record<string, string>, cwd: string): Probe {
  return (timeoutMs) =>
    new Promise((resolve) => {
      const child = spawn('/bin/sh', ['-c', command], { env, cwd, detached: true, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr?.on('data', (data: Buffer) => {
        stderr = (stderr + data.toString()).slice(-500)
      })
      const timer = setTimeout(() => {
        if (child.pid) signalGroup(child.pid, 'SIGKILL')
        resolve({ ok: false, reason: `health command timed out after ${timeoutMs} ms` })
      }, timeoutMs)
      child.once('error', (error) => {
        clearTimeout(timer)
        resolve({ ok: false, reason: `health command: ${error.message}` })
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        resolve(
          code === 0
            ? { ok: true }
            : {
                ok: false,
                reason: `health command exited ${code}${stderr ? `: ${stderr.trim().split('\n').pop()}` : ''}`,
              },
        )
      })
    })
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy'

/**
 * Runs a probe for as long as a service runs: often until it first passes (so `up` is fast), then
 * every interval; `retries` failures in a row make it unhealthy, one success healthy again. While
 * starting, a connection probe (tcp, http) that fails costs a refused connect on loopback, so it
 * runs every 10 ms; a command probe, a process each time, every 25 ms.
 */
export class HealthMonitor {
  status: HealthStatus = 'starting'
  lastReason = ''
  private failures = 0
  private readonly abort = new AbortController()

  constructor(
    private readonly probe: Probe,
    private readonly spec: HealthSpec,
    private readonly clock: Clock,
    private readonly onChange: (status: HealthStatus, reason: string) => void,
    private readonly startupPollMs = spec.check.kind === 'command' ? 25 : 10,
  ) {}

  /** `passed`: readiness is already known (the box's initialise checked what its probe checks): the first probe waits an interval. */
  start(passed = false): void {
    if (passed) this.record({ ok: true })
    void this.loop(passed)
  }

  stop(): void {
    this.abort.abort()
  }

  private async loop(passed: boolean): Promise<void> {
    const signal = this.abort.signal
    if (passed) {
      try {
        await this.clock.sleep(this.spec.intervalMs, signal)
      } catch {
        return
      }
    } else if (this.spec.startPeriodMs > 0) {
      try {
        await this.clock.sleep(Math.min(this.spec.startPeriodMs, 200), signal)
      } catch {
        return
      }
    }
    while (!signal.aborted) {
      const result = await this.probe(this.spec.timeoutMs)
      if (signal.aborted) return
      this.record(result)
      const wait = this.status === 'starting' ? this.startupPollMs : this.spec.intervalMs
      try {
        await this.clock.sleep(wait, signal)
      } catch {
        return
      }
    }
  }

  private record(result: ProbeResult): void {
    if (result.ok) {
      this.failures = 0
      this.lastReason = ''
      this.set('healthy', '')
      return
    }
    this.lastReason = result.reason
    // A service that never becomes ready is judged by up's deadline, not here.
    if (this.status === 'starting') return
    this.failures++
    if (this.failures >= this.spec.retries) this.set('unhealthy', result.reason)
  }

  private set(status: HealthStatus, reason: string): void {
    if (status === this.status) return
    this.status = status
    this.onChange(status, reason)
  }
}
