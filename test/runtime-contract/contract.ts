import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { loadEnvfile, type EnvSpec } from '../../src/envfile/index.js'
import type { Runtime, RuntimeOptions, ServiceLogLine } from '../../src/runtime/index.js'
import { waitFor } from '../support/net.js'
import { reserveAddressBlock } from '../runtime/helpers.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const DIST = path.join(REPO, 'dist')
const FIXTURE = path.join(REPO, 'test', 'fixtures', 'runtime-contract')

/** A provider under test: how to make it, and why it cannot run here (the suite is then skipped, saying so). */
export interface ProviderUnderTest {
  name: string
  /** A reason to skip, or undefined when the provider can run on this machine. */
  unavailable?: () => Promise<string | undefined>
  create(options: RuntimeOptions): Promise<Runtime>
}

/** Loads the built module, as the CLI runs it: the bundled supervisor is a built file. */
export async function fromDist<T>(relative: string): Promise<T> {
  if (!existsSync(path.join(DIST, 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first')
  return (await import(pathToFileURL(path.join(DIST, relative)).href)) as T
}

function connects(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/**
 * What every provider must do, through the Runtime interface alone: the same suite runs against
 * each provider, and a new provider is ready when it passes it.
 */
export function runtimeContract(provider: ProviderUnderTest): void {
  describe(`runtime contract: ${provider.name}`, () => {
    let base: string
    let runtime: Runtime
    let spec: EnvSpec
    let skip: string | undefined

    beforeAll(async () => {
      skip = await provider.unavailable?.()
      if (skip) {
        process.stdout.write(`runtime contract for ${provider.name} skipped: ${skip}\n`)
        return
      }
      base = mkdtempSync(path.join(tmpdir(), `devenv-contract-${provider.name}-`))
      const root = path.join(base, 'project')
      cpSync(FIXTURE, root, { recursive: true })
      process.env.DEVENV_HOME = path.join(base, 'home')
      reserveAddressBlock(process.env.DEVENV_HOME, root)
      spec = loadEnvfile({ file: path.join(root, 'devenv.yaml') })
      runtime = await provider.create({
        preparationModule: pathToFileURL(path.join(DIST, 'engine', 'preparation.js')).href,
      })
    })

    afterAll(async () => {
      if (skip || !runtime) return
      await runtime.down(spec).catch(() => undefined)
      rmSync(base, { recursive: true, force: true })
    })

    const unlessUnavailable = (context: { skip: (note?: string) => void }): void => {
      if (skip) context.skip(`${provider.name}: ${skip}`)
    }

    test('up brings every service up in dependency order, built first, each at its own address', async (context) => {
      unlessUnavailable(context)
      const events: string[] = []
      const result = await runtime.up(spec, { services: [] }, (event) => events.push(`${event.service}:${event.phase}`))
      expect(result.ok, JSON.stringify(result.failed)).toBe(true)
      expect(result.services.map((service) => [service.name, service.state])).toEqual(
        expect.arrayContaining([
          ['db', 'running'],
          ['api', 'running'],
        ]),
      )
      expect(events.indexOf('db:ready')).toBeLessThan(events.indexOf('api:starting'))
      expect(events).toContain('api:building')
      expect(existsSync(path.join(spec.root, 'built.txt'))).toBe(true)
      const addresses = await runtime.addresses(spec, ['db', 'api'])
      expect(addresses.db).not.toBe(addresses.api)
      const state = await runtime.inspect(spec)
      expect(state.services.api?.address).toBe(addresses.api)
    })

    test('a service handle: its endpoint answers, exec runs in its environment, its logs have its output', async (context) => {
      unlessUnavailable(context)
      const api = runtime.service(spec, 'api')
      const endpoint = await api.endpoint()
      const reply = (await (await fetch(`http://${endpoint.address}:${endpoint.port(8080)}/`)).json()) as {
        name: string
        greeting: string
      }
      expect(reply).toMatchObject({ name: 'api', greeting: `hello from ${endpoint.address}` })
      const exec = await api.execContext()
      const [program, ...prefix] = exec.enter ?? []
      const command = ['sh', '-c', 'echo "$DEVENV_SERVICE $DEVENV_ADDRESS:$PORT"']
      const ran = await execa(program ?? command[0]!, [...prefix, ...(program ? command : command.slice(1))], {
        env: exec.env,
        cwd: exec.cwd,
        extendEnv: false,
      })
      expect(ran.stdout).toBe(`api ${endpoint.address}:${endpoint.port(8080)}`)
      const lines = await api.logs()
      expect(lines.some((line) => line.text.includes('api listening on'))).toBe(true)
      expect((await runtime.logs(spec, ['db', 'api'])).map((line) => line.service)).toEqual(
        expect.arrayContaining(['db', 'api']),
      )
      expect(await api.isRunning()).toBe(true)
    })

    test('follow delivers lines written after it started', async (context) => {
      unlessUnavailable(context)
      const seen: ServiceLogLine[] = []
      const abort = new AbortController()
      const following = runtime.follow(spec, ['api'], (line) => seen.push(line), abort.signal)
      const api = runtime.service(spec, 'api')
      const endpoint = await api.endpoint()
      await api.stop()
      await api.start()
      await waitFor('a line from the restart', () => seen.some((line) => line.text.includes('listening on')))
      abort.abort()
      await following
      expect(await connects(endpoint.address, endpoint.port(8080))).toBe(true)
    })

    test('stop stops one service and keeps the rest; its endpoint is gone until it starts again', async (context) => {
      unlessUnavailable(context)
      const api = runtime.service(spec, 'api')
      const endpoint = await api.endpoint()
      await api.stop()
      expect((await api.inspect()).state).toBe('stopped')
      expect(await api.isRunning()).toBe(false)
      expect(await api.endpointIfRunning()).toBeUndefined()
      await expect(api.endpoint()).rejects.toMatchObject({ code: 'NOT_FOUND' })
      expect(await connects(endpoint.address, endpoint.port(8080))).toBe(false)
      expect(await runtime.service(spec, 'db').isRunning()).toBe(true)
      const started = await api.start()
      expect(started.ok).toBe(true)
      expect(await connects(endpoint.address, endpoint.port(8080))).toBe(true)
    })

    test('restart gives a new process; a handle for an unknown service is refused', async (context) => {
      unlessUnavailable(context)
      const before = (await runtime.inspect(spec)).services.api?.pid
      const result = await runtime.restart(spec, ['api'], () => {})
      expect(result.ok).toBe(true)
      expect((await runtime.inspect(spec)).services.api?.pid).not.toBe(before)
      expect(() => runtime.service(spec, 'nope')).toThrow(/nope/)
    })

    test('build reruns the build step when asked', async (context) => {
      unlessUnavailable(context)
      const before = readFileSync(path.join(spec.root, 'built.txt'), 'utf8')
      await new Promise((resolve) => setTimeout(resolve, 5))
      const result = await runtime.build(spec, ['api'], () => {})
      expect(result.ok).toBe(true)
      expect(readFileSync(path.join(spec.root, 'built.txt'), 'utf8')).not.toBe(before)
    })

    test('down stops everything and leaves nothing answering', async (context) => {
      unlessUnavailable(context)
      const endpoints = await Promise.all(['db', 'api'].map((name) => runtime.service(spec, name).endpoint()))
      expect(runtime.activity(spec.root).active).toBe(true)
      await runtime.down(spec)
      expect(runtime.activity(spec.root).active).toBe(false)
      const state = await runtime.inspect(spec)
      expect(Object.values(state.services).map((service) => service.state)).toEqual(['stopped', 'stopped'])
      expect(await connects(endpoints[0]!.address, endpoints[0]!.port(5432))).toBe(false)
      expect(await connects(endpoints[1]!.address, endpoints[1]!.port(8080))).toBe(false)
    })
  })
}
