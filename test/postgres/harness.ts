/**
 * Runs the postgres driver the way the runtime will: prepare, spawn launch() in its own
 * process group, initialise, poll probe; stop with the driver's stop signal.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { ServiceContext } from '../../src/boxes/driver.js'
import { postgresDriver, serverTarget } from '../../src/boxes/postgres/driver.js'
import { maintenanceSettled } from '../../src/boxes/postgres/maintenance.js'
import { unprivilegedRunner } from '../../src/runtime/bundled/users.js'
import type { DatabaseSpec, ServiceSpec } from '../../src/envfile/model.js'

export interface Harness {
  root: string
  context: ServiceContext
  logs: string[]
  start(): Promise<{ bootMs: number }>
  stop(): Promise<void>
  dispose(): Promise<void>
}

export async function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, address, () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

export function tempRoot(prefix = 'devenv-pg-'): string {
  const root = mkdtempSync(path.join(os.tmpdir(), prefix))
  // The server runs as an unprivileged user when we are root: it must be able to get in.
  chmodSync(root, 0o755)
  return root
}

export async function createHarness(options: {
  databases: DatabaseSpec[]
  settings?: Record<string, string>
  root?: string
  address?: string
}): Promise<Harness> {
  const root = options.root ?? tempRoot()
  const address = options.address ?? `127.77.0.${2 + Math.floor(Math.random() * 250)}`
  const port = await freePort(address)
  const dataDir = path.join(root, 'data')
  const runDir = path.join(root, 'run')
  mkdirSync(dataDir, { recursive: true })
  const logs: string[] = []
  const service = {
    name: 'db',
    box: { name: 'postgres' },
    kind: 'postgres',
    workdir: root,
    env: {},
    hostnames: [],
    ports: [5432],
    publish: [],
    mounts: [],
    dependsOn: [],
    restart: { policy: 'no', maxRestarts: 0, backoffMs: 0 },
    stopTimeoutMs: 10_000,
    integrity: [],
    postgres: { port: 5432, databases: options.databases, settings: options.settings ?? {} },
  } satisfies ServiceSpec
  const controller = new AbortController()
  const context: ServiceContext = {
    project: { name: 'test', root },
    service,
    address,
    port: () => port,
    dataDir,
    runDir,
    machineHome: path.join(root, 'home'),
    env: {},
    log: (line) => logs.push(line),
    endpoint: () => {
      throw new Error('no other services here')
    },
    peer: () => undefined,
    runAs: process.getuid?.() === 0 ? unprivilegedRunner() : undefined,
    signal: controller.signal,
  }
  let child: ChildProcess | undefined
  let exited: Promise<void> | undefined

  async function start(): Promise<{ bootMs: number }> {
    const started = performance.now()
    await postgresDriver.prepare!(context)
    const launch = await postgresDriver.launch(context)
    child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      uid: launch.uid,
      gid: launch.gid,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    child.stdout!.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
    child.stderr!.on('data', (chunk: Buffer) => logs.push(chunk.toString()))
    exited = new Promise((resolve) => child!.once('exit', () => resolve()))
    const early = exited.then(() => {
      throw new Error(`postgres exited early:\n${logs.join('')}`)
    })
    try {
      await Promise.race([postgresDriver.initialise!(context), early])
    } catch (error) {
      await stop()
      throw error
    }
    const deadline = Date.now() + 30_000
    while (true) {
      const result = await postgresDriver.probe!(context)
      if (result.ok) break
      if (Date.now() > deadline) throw new Error(`probe never passed: ${result.reason}`)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    early.catch(() => {})
    return { bootMs: performance.now() - started }
  }

  async function stop(): Promise<void> {
    if (!child || child.exitCode !== null || child.signalCode !== null) return
    const launch = await postgresDriver.launch(context)
    try {
      process.kill(-child.pid!, launch.stopSignal ?? 'SIGTERM')
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child!.pid!, 'SIGKILL')
      } catch {
        // already gone
      }
    }, 10_000)
    await exited
    clearTimeout(timer)
  }

  return {
    root,
    context,
    logs,
    start,
    stop,
    async dispose() {
      await stop()
      await maintenanceSettled(context.dataDir)
      if (!options.root) rmSync(root, { recursive: true, force: true })
    },
  }
}

export function connectionTarget(harness: Harness) {
  return serverTarget(harness.context)
}
