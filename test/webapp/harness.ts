import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import http from 'node:http'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { canBind, freePort, waitFor } from '../support/net.js'
import { runDevenv } from '../support/cli.js'

export { canBind, freePort, waitFor }

export const REPO = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface StatusService {
  name: string
  state: string
  health: string
  address: string
  pid?: number
  ports: { port: number; bound: number; address: string; published?: { address: string; port: number } | null }[]
  message?: string
}

export interface StatusJson {
  project: string
  supervisor: { pid: number | null; running: boolean }
  services: StatusService[]
}

/**
 * A fresh `devenv init --template webapp` in a temp folder, with its own machine home (so its
 * own certificate authority and address table) and its own hosts file: never /etc/hosts.
 */
export class WebappProject {
  readonly base = mkdtempSync(path.join(tmpdir(), 'devenv-webapp-'))
  readonly root = path.join(this.base, 'webapp')
  readonly home = path.join(this.base, 'home')
  readonly hostsFile = path.join(this.base, 'hosts')
  /** Lines for the test log: what had to change from the template as shipped, and why. */
  readonly notes: string[] = []

  constructor() {
    if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first')
    // PostgreSQL runs as an unprivileged user when we are root: it must be able to reach the data
    chmodSync(this.base, 0o755)
    mkdirSync(this.root)
    this.claimFreeAddressBlock()
  }

  /**
   * Every test here has a machine home of its own, so each would take the first loopback block
   * (127.64.1.x) and collide with any other such test running at the same time on this shared
   * machine. Until the allocator skips blocks that are in use (see the report), the project is
   * given a block nobody listens on, in the home's address table.
   */
  private claimFreeAddressBlock(): void {
    const busy = listeningAddresses()
    const candidates = Array.from({ length: 200 }, (_, index) => 40 + index).filter(
      (block) => ![...busy].some((address) => address.startsWith(`127.64.${block}.`)),
    )
    const block = candidates[Math.floor(Math.random() * candidates.length)]
    if (block === undefined) return
    mkdirSync(this.home, { recursive: true })
    writeFileSync(path.join(this.home, 'addresses.json'), JSON.stringify({ [this.root]: { block, services: {} } }))
  }

  get env(): Record<string, string | undefined> {
    return {
      DEVENV_HOME: this.home,
      DEVENV_HOSTS_FILE: this.hostsFile,
      NO_COLOR: '1',
      FORCE_COLOR: undefined,
      DEVENV_DEBUG: undefined,
    }
  }

  async run(args: string[], timeoutMs = 30_000): Promise<CliResult> {
    const result = await runDevenv(args, { cwd: this.root, timeout: timeoutMs, env: this.env })
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  async json<T>(args: string[]): Promise<T> {
    const result = await this.run([...args, '--json'])
    if (result.exitCode !== 0) throw new Error(`devenv ${args.join(' ')} exited ${result.exitCode}: ${result.stderr}`)
    return JSON.parse(result.stdout).result as T
  }

  async status(): Promise<StatusJson> {
    return this.json<StatusJson>(['status'])
  }

  /**
   * The published ports 81 and 82 are machine-wide (127.0.0.1): on a machine where another
   * webapp stack runs they are taken, so the test moves them to free ports and says so.
   */
  async freePublishedPorts(): Promise<void> {
    const envfile = path.join(this.root, 'devenv.yaml')
    let text = readFileSync(envfile, 'utf8')
    for (const port of [81, 82]) {
      if (await canBind('127.0.0.1', port)) continue
      const replacement = await freePort('127.0.0.1')
      text = text.replace(`"${port}:8080"`, `"${replacement}:8080"`)
      this.notes.push(`127.0.0.1:${port} is taken on this machine: published on ${replacement} instead`)
    }
    writeFileSync(envfile, text)
  }

  /** Processes whose working folder is inside the project (the supervisor and its services). */
  processes(): number[] {
    const found: number[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        const cwd = readlinkSync(`/proc/${entry}/cwd`)
        if (
          (cwd === this.root || cwd.startsWith(`${this.root}/`)) &&
          !/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))
        )
          found.push(Number(entry))
      } catch {
        // gone meanwhile
      }
    }
    return found
  }

  async cleanup(): Promise<void> {
    if (existsSync(path.join(this.root, 'devenv.yaml'))) {
      await this.run(['down'], 30_000).catch(() => undefined)
      await this.run(['destroy', '--force'], 30_000).catch(() => undefined)
    }
    for (const pid of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    rmSync(this.base, { recursive: true, force: true })
  }
}

export function service(status: StatusJson, name: string): StatusService {
  const found = status.services.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`no service ${name} in status: ${JSON.stringify(status)}`)
  return found
}

/** Addresses with a listening TCP socket, from /proc/net/tcp. */
export function listeningAddresses(): Set<string> {
  const found = new Set<string>()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[3] !== '0A') continue
    const hex = fields[1]!.split(':')[0]!
    found.add(
      hex
        .match(/../g)!
        .map((byte) => parseInt(byte, 16))
        .reverse()
        .join('.'),
    )
  }
  return found
}

export interface HttpReply {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
}

/** One HTTP request on a fresh connection (no keep-alive: each request is balanced on its own). */
export function request(options: {
  address: string
  port: number
  path?: string
  method?: string
  host?: string
  json?: unknown
}): Promise<HttpReply> {
  const body = options.json === undefined ? undefined : JSON.stringify(options.json)
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: options.address,
        port: options.port,
        path: options.path ?? '/',
        method: options.method ?? 'GET',
        agent: false,
        timeout: 5000,
        headers: {
          ...(options.host ? { host: options.host } : {}),
          ...(body !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        )
        response.on('error', reject)
      },
    )
    outgoing.on('timeout', () =>
      outgoing.destroy(new Error(`no answer from ${options.address}:${options.port} within 5 s`)),
    )
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}

/** KEY=value lines of a .env file. */
export function readDotenv(file: string): Record<string, string> {
  const values: Record<string, string> = {}
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line)
    if (match) values[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, '$2')
  }
  return values
}
