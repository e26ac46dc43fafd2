import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { once } from 'node:events'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ServiceContext } from '../../src/boxes/driver.js'
import type { ServiceSpec } from '../../src/envfile/model.js'
import { temporaryFolder, waitFor } from '../watch/fixtures.js'
import { fetchRaw } from './http.js'

// The driver launches dist/boxes/static/main.js: run `npx tsc -p tsconfig.build.json` first.
const DIST_DRIVER = new URL('../../dist/boxes/static/driver.js', import.meta.url)
const { staticDriver } = (await import(DIST_DRIVER.href)) as typeof import('../../src/boxes/static/driver.js')

let folder: ReturnType<typeof temporaryFolder>

beforeEach(() => {
  folder = temporaryFolder('devenv-static-driver-')
})

afterEach(() => folder.remove())

function context(root: string, port: number, spa = false): ServiceContext {
  const service: ServiceSpec = {
    name: 'web',
    box: { name: 'static' },
    kind: 'static',
    workdir: folder.path,
    env: { HOST: '127.0.0.1', PORT: String(port) },
    hostnames: [],
    ports: [80],
    publish: [],
    mounts: [],
    dependsOn: [],
    restart: { policy: 'on-failure', maxRestarts: 5, backoffMs: 100 },
    stopTimeoutMs: 5000,
    integrity: [],
    static: { root, port: 80, spa },
  }
  const runDir = path.join(folder.path, 'run')
  mkdirSync(runDir, { recursive: true })
  return {
    project: { name: 'demo', root: folder.path },
    service,
    address: '127.0.0.1',
    port: (declared) => (declared === 80 ? port : declared),
    dataDir: path.join(folder.path, 'data'),
    runDir,
    machineHome: path.join(folder.path, 'home'),
    env: service.env,
    log: () => {},
    endpoint: () => {
      throw new Error('not used')
    },
    peer: () => undefined,
    signal: new AbortController().signal,
  }
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('staticDriver', () => {
  it('prepares a config, launches a server process that serves the root and stops cleanly on SIGTERM', async () => {
    const root = path.join(folder.path, 'public')
    mkdirSync(root)
    writeFileSync(path.join(root, 'index.html'), 'hello')
    const port = await freePort()
    const ctx = context(root, port, true)
    await staticDriver.prepare!(ctx)
    const configFile = path.join(ctx.runDir, 'static.json')
    expect(JSON.parse(readFileSync(configFile, 'utf8'))).toEqual({
      service: 'web',
      root,
      address: '127.0.0.1',
      port,
      spa: true,
    })

    const launch = await staticDriver.launch(ctx)
    expect(launch.command).toBe(process.execPath)
    expect(existsSync(launch.args[0]!)).toBe(true)
    expect(launch.env).toMatchObject({ PORT: String(port), DEVENV_BOX_CONFIG: configFile })
    expect(await staticDriver.probe!(ctx)).toMatchObject({ ok: false })

    const child = spawn(launch.command, launch.args, {
      env: launch.env,
      cwd: launch.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    try {
      await waitFor(() => (output.includes('serving') ? true : undefined), 5000, 'the server to listen')
      expect(await staticDriver.probe!(ctx)).toEqual({ ok: true })
      expect((await fetchRaw(port, '/some/route')).body).toBe('hello')
      await waitFor(() => (output.includes('GET /some/route 200') ? true : undefined), 2000, 'the request log line')
      child.kill('SIGTERM')
      const [code] = await once(child, 'exit')
      expect(code).toBe(0)
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
    }
  })

  it('refuses to prepare a root that does not exist', async () => {
    const ctx = context(path.join(folder.path, 'missing'), 1)
    await expect(staticDriver.prepare!(ctx)).rejects.toThrow(/does not exist/)
    await expect(staticDriver.prepare!(ctx)).rejects.toMatchObject({ code: 'BOX' })
  })

  it('exits with a clear message when its config is bad or its port is taken', async () => {
    const launch = await staticDriver.launch(context(folder.path, 1))
    const bad = path.join(folder.path, 'bad.json')
    writeFileSync(bad, JSON.stringify({ service: 'web', root: 'relative', address: '127.0.0.1', port: 1, spa: false }))
    const badRun = spawn(process.execPath, launch.args, {
      env: { DEVENV_BOX_CONFIG: bad },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let badError = ''
    badRun.stderr.on('data', (chunk: Buffer) => (badError += chunk.toString()))
    const [badCode] = await once(badRun, 'exit')
    expect(badCode).toBe(2)
    expect(badError).toContain('"root" must be an absolute path')

    const { createServer } = await import('node:net')
    const holder = createServer()
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
    const taken = (holder.address() as { port: number }).port
    const busy = path.join(folder.path, 'busy.json')
    writeFileSync(
      busy,
      JSON.stringify({ service: 'web', root: folder.path, address: '127.0.0.1', port: taken, spa: false }),
    )
    const busyRun = spawn(process.execPath, launch.args, {
      env: { DEVENV_BOX_CONFIG: busy },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    let busyError = ''
    busyRun.stderr.on('data', (chunk: Buffer) => (busyError += chunk.toString()))
    const [busyCode] = await once(busyRun, 'exit')
    holder.close()
    expect(busyCode).toBe(1)
    expect(busyError).toContain(`port ${taken} on 127.0.0.1 is already in use`)
  })
})
