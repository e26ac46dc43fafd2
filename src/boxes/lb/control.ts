import { readFileSync, renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { HealthChecker } from './health.js'
import type { BackendPool } from './pool.js'

/**
 * How the supervisor tells a running balancer that a backend is going down or is ready again,
 * without waiting for the balancer's next check: it writes the backends' readiness into the lb's
 * run folder and sends SIGUSR2; the balancer applies the file and answers with the file's `seq`
 * in an acknowledgement file, so the supervisor knows no request goes to a backend it stops next.
 */
export const CONTROL_SIGNAL = 'SIGUSR2'

export interface BackendsControl {
  seq: number
  /** true: ready (take it in now); false: going down (take it out now); absent: leave it to the checks. */
  backends: Record<string, boolean>
}

export function controlFiles(runDir: string): { control: string; ack: string } {
  return { control: path.join(runDir, 'backends.json'), ack: path.join(runDir, 'backends.ack') }
}

/** The supervisor's side: write (write-aside and rename, so the lb never reads half a file). */
export function writeControl(runDir: string, control: BackendsControl): void {
  const { control: file } = controlFiles(runDir)
  writeFileSync(`${file}.tmp`, JSON.stringify(control))
  renameSync(`${file}.tmp`, file)
}

export function readAck(runDir: string): number {
  try {
    return Number(readFileSync(controlFiles(runDir).ack, 'utf8')) || 0
  } catch {
    return 0
  }
}

/** The balancer's side: apply the file to the pool, then acknowledge. */
export function applyControl(runDir: string, pool: BackendPool, health: HealthChecker): void {
  const files = controlFiles(runDir)
  let control: BackendsControl
  try {
    control = JSON.parse(readFileSync(files.control, 'utf8')) as BackendsControl
  } catch {
    return
  }
  for (const [name, ready] of Object.entries(control.backends ?? {})) {
    const backend = pool.get(name)
    if (!backend) continue
    if (ready) health.markUp(backend, 'devenv reports it ready')
    else health.markDown(backend, 'devenv is stopping it')
  }
  try {
    writeFileSync(`${files.ack}.tmp`, String(control.seq))
    renameSync(`${files.ack}.tmp`, files.ack)
  } catch {
    // The supervisor then waits its short while and goes on.
  }
}
