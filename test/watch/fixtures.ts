import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { MountSpec, ServiceSpec, WatchAction } from '../../src/envfile/model.js'

export function temporaryFolder(prefix: string): { path: string; remove(): void } {
  const folder = realpathSync(mkdtempSync(path.join(tmpdir(), prefix)))
  return { path: folder, remove: () => rmSync(folder, { recursive: true, force: true }) }
}

export function mount(source: string, watch: WatchAction, ignore: string[] = []): MountSpec {
  return { source, target: '/app', readonly: false, watch, ignore }
}

export function service(name: string, mounts: MountSpec[]): ServiceSpec {
  return {
    name,
    box: { name: 'node' },
    kind: 'node',
    command: 'node server.js',
    workdir: mounts[0]?.source ?? '/',
    env: {},
    hostnames: [],
    ports: [8080],
    publish: [],
    mounts,
    dependsOn: [],
    restart: { policy: 'on-failure', maxRestarts: 5, backoffMs: 100 },
    stopTimeoutMs: 5000,
    integrity: [],
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Resolves with the first value `check` returns that is not undefined, or rejects after `ms`. */
export async function waitFor<T>(check: () => T | undefined, ms = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}
