import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LbConfig } from '../../src/boxes/lb/config.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
export const LB_MAIN = path.join(ROOT, 'dist/boxes/lb/main.js')
export const BACKEND = path.join(ROOT, 'test/fixtures/lb/backend.mjs')
/** The balancer listens on an address of its own, as under the runtime. */
export const LB_ADDRESS = '127.0.77.1'

export interface Running {
  child: ChildProcess
  output(): string
  stop(): Promise<void>
}

const started = new Set<Running>()

/** Spawns a process and waits for a line of its stdout to match `ready`. */
export function startProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<Running & { match: RegExpMatchArray }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    const running: Running = {
      child,
      output: () => output,
      stop: () =>
        new Promise<void>((done) => {
          started.delete(running)
          if (child.exitCode !== null || child.signalCode !== null) return done()
          child.once('exit', () => done())
          child.kill('SIGTERM')
        }),
    }
    started.add(running)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = output.match(ready)
      if (match) {
        child.stdout!.off('data', onData)
        child.stdout!.on('data', (more: Buffer) => (output += more.toString()))
        resolve({ ...running, match })
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) =>
      reject(new Error(`${path.basename(args[0] ?? command)} exited with ${code} before it was ready:\n${output}`)),
    )
  })
}

export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((running) => running.stop()))
}

export async function freePort(address = '127.0.0.1'): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise((resolve) => server.close(resolve))
  return port
}

export interface Backend extends Running {
  name: string
  port: number
}

export async function startBackend(name: string, port = 0): Promise<Backend> {
  const running = await startProcess(
    process.execPath,
    [BACKEND, name, '127.0.0.1', String(port)],
    {},
    /listening (\d+)/,
  )
  return { ...running, name, port: Number(running.match[1]) }
}

export interface Balancer extends Running {
  httpPort: number
  httpsPort?: number
  config: LbConfig
}

/** Writes a config and runs the built lb server on it, as the runtime would. */
export async function startBalancer(backends: Backend[], overrides: Partial<LbConfig> = {}): Promise<Balancer> {
  const folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-lb-'))
  const config: LbConfig = {
    service: 'lb',
    address: LB_ADDRESS,
    httpPort: 0,
    strategy: 'round-robin',
    backends: backends.map((backend) => ({
      name: backend.name,
      address: '127.0.0.1',
      port: backend.port,
      check: { kind: 'http', path: '/health', port: backend.port },
    })),
    healthIntervalMs: 200,
    fall: 2,
    rise: 2,
    backendTimeoutMs: 10_000,
    ...overrides,
  }
  const file = path.join(folder, 'lb.json')
  writeFileSync(file, JSON.stringify(config))
  const running = await startProcess(
    process.execPath,
    [LB_MAIN],
    { DEVENV_BOX_CONFIG: file },
    /listening on http:\/\/[\d.]+:(\d+)(?: and https:\/\/[\d.]+:(\d+))?/,
  )
  // However it is stopped (stop(), stopAll()), its config folder goes with it.
  running.child.once('exit', () => rmSync(folder, { recursive: true, force: true }))
  return {
    ...running,
    config,
    httpPort: Number(running.match[1]),
    ...(running.match[2] ? { httpsPort: Number(running.match[2]) } : {}),
  }
}

export interface Answer {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

export function get(
  port: number,
  urlPath = '/',
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: LB_ADDRESS,
        port,
        path: urlPath,
        method: options.method ?? 'GET',
        headers: options.headers,
        agent: false,
      },
      (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk: string) => (body += chunk))
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }))
        response.on('error', reject)
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `probe` until it returns true, or fails after `timeoutMs`. */
export async function eventually(probe: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await probe()) return
    await sleep(50)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
}

/** Sends raw bytes, half-closes only when asked, and collects all that comes back until the lb closes or goes quiet. */
export function exchange(
  address: string,
  port: number,
  bytes: string,
  { quietMs = 800, end = false } = {},
): Promise<{ text: string; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port })
    let text = ''
    let closedByServer = false
    let timer = setTimeout(() => socket.destroy(), quietMs)
    socket.on('data', (chunk) => {
      text += chunk.toString('latin1')
      clearTimeout(timer)
      timer = setTimeout(() => socket.destroy(), quietMs)
    })
    socket.on('end', () => (closedByServer = true))
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve({ text, closedByServer })
    })
    socket.write(bytes)
    if (end) socket.end()
  })
}
