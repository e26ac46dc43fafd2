import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { spawn, type ChildProcess } from 'node:child_process'
import { afterEach } from 'vitest'
import { canBind, freePort as freePortOn, waitFor } from '../support/net.js'
import { runDevenv } from '../support/cli.js'

export { canBind, waitFor }

/** A port free on every address (0.0.0.0): machine-wide ports such as published ones. */
export function freePort(): Promise<number> {
  return freePortOn('0.0.0.0')
}

export const REPO = fileURLToPath(new URL('../..', import.meta.url))

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
}

/**
 * A copy of a fixture in a temp folder, with its own machine home and hosts file, so a test
 * never touches ~/.local/share/devenv or /etc/hosts. `cleanup()` brings it down and kills
 * anything it left behind.
 */
export class RuntimeProject {
  readonly root: string
  readonly home: string
  readonly hostsFile: string
  private readonly base: string

  /** `home`: share another project's machine home (for global-status). */
  constructor(fixture: string, options: { home?: string } = {}) {
    if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first')
    this.base = mkdtempSync(path.join(tmpdir(), `devenv-rt-${fixture}-`))
    this.root = path.join(this.base, 'project')
    this.home = options.home ?? path.join(this.base, 'home')
    this.hostsFile = path.join(this.base, 'hosts')
    cpSync(path.join(REPO, 'test', 'fixtures', fixture), this.root, { recursive: true })
    reserveAddressBlock(this.home, this.root)
  }

  /**
   * Machine-wide ports (a publish on 127.0.0.1, a port taken on 0.0.0.0) would collide with another
   * run of the same suite on this machine: tests swap the fixture's port for a free one in their copy.
   */
  usePort(fixturePort: number, port: number): void {
    const file = path.join(this.root, 'devenv.yaml')
    const text = readFileSync(file, 'utf8')
    if (!text.includes(String(fixturePort))) throw new Error(`${fixturePort} is not in ${file}`)
    writeFileSync(file, text.replaceAll(String(fixturePort), String(port)))
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

  async run(args: string[], options: { timeout?: number; cwd?: string } = {}): Promise<CliResult> {
    return runDevenv(args, {
      cwd: options.cwd ?? this.root,
      timeout: options.timeout ?? 30_000,
      env: this.env,
      stdin: 'pipe',
    })
  }

  async status(): Promise<StatusJson> {
    const result = await this.run(['status', '--json'])
    if (result.exitCode !== 0) throw new Error(`status failed: ${result.stderr}`)
    return JSON.parse(result.stdout).result as StatusJson
  }

  supervisorPid(): number | undefined {
    try {
      return (JSON.parse(readFileSync(path.join(this.root, '.devenv', 'supervisor.json'), 'utf8')) as { pid: number })
        .pid
    } catch {
      return undefined
    }
  }

  /** Processes whose working folder is inside the project (services, builds, the supervisor). */
  processes(): ProcessInfo[] {
    return listProcesses().filter(
      (info) => info.cwd === this.root || info.cwd.startsWith(`${this.root}/`) || info.cwd.startsWith(`${this.root}.`),
    )
  }

  async cleanup(): Promise<void> {
    if (existsSync(this.root)) await this.run(['down', '--no-hosts'], { timeout: 20_000 }).catch(() => undefined)
    for (const info of this.processes()) killQuietly(info.pid)
    // DEVENV_TEST_KEEP_LOGS=1 keeps .devenv/logs (supervisor and services) for a post-mortem.
    const logs = path.join(this.root, '.devenv', 'logs')
    if (process.env.DEVENV_TEST_KEEP_LOGS === '1' && existsSync(logs))
      cpSync(logs, `${this.base}-logs`, { recursive: true })
    rmSync(this.base, { recursive: true, force: true })
  }
}

/**
 * Address blocks are allocated per machine home, first free block first, so every test with a
 * fresh home would get 127.64.1.x and collide with other suites running at the same time. A
 * random block, written where devenv keeps its allocations, keeps concurrent runs apart.
 */
export function reserveAddressBlock(home: string, root: string): void {
  const file = path.join(home, 'addresses.json')
  const table = existsSync(file)
    ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, { block: number; services: Record<string, number> }>)
    : {}
  const used = new Set(Object.values(table).map((entry) => entry.block))
  let block: number
  do block = 1000 + Math.floor(Math.random() * 39_000)
  while (used.has(block))
  table[root] = { block, services: {} }
  mkdirSync(home, { recursive: true })
  writeFileSync(file, JSON.stringify(table))
}

export interface StatusPort {
  port: number
  address: string
  published?: { address: string; port: number } | null
  bound?: number
}

export interface StatusService {
  name: string
  box: string
  state: string
  health: string
  address: string
  hostnames: string[]
  ports: StatusPort[]
  pid: number | null
  restarts: number
  startedAt: string | null
  message?: string
  mounts?: string
}

export interface StatusJson {
  project: string
  supervisor: { pid: number | null; running: boolean }
  services: StatusService[]
}

export function service(status: StatusJson, name: string): StatusService {
  const found = status.services.find((candidate) => candidate.name === name)
  if (!found) throw new Error(`no service ${name} in status: ${JSON.stringify(status)}`)
  return found
}

export interface ProcessInfo {
  pid: number
  cwd: string
  command: string
}

export function listProcesses(): ProcessInfo[] {
  const found: ProcessInfo[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (/\) [ZX] /.test(stat)) continue
      const cwd = readlinkSync(`/proc/${entry}/cwd`)
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ')
      found.push({ pid: Number(entry), cwd, command })
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

export function killQuietly(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(pid, signal)
  } catch {
    // already gone
  }
}

/** Every listening TCP socket on the machine, as "address:port", read from /proc/net/tcp. */
export function listeningSockets(): Set<string> {
  const listening = new Set<string>()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[3] !== '0A') continue
    const [hexAddress, hexPort] = fields[1]!.split(':') as [string, string]
    const octets = hexAddress
      .match(/../g)!
      .map((byte) => parseInt(byte, 16))
      .reverse()
    listening.add(`${octets.join('.')}:${parseInt(hexPort, 16)}`)
  }
  return listening
}

export async function httpGet(address: string, port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${address}:${port}${urlPath}`, { signal: AbortSignal.timeout(3000) })
  return { status: response.status, body: await response.text() }
}

/**
 * Projects a test opens, and processes it starts to hold a port: all taken down after each test.
 * Call it inside a describe block.
 */
export function projectsOfEachTest(): {
  open(fixture: string): RuntimeProject
  /** Another process listening on `port` on every address, until the test ends. */
  holdPort(port: number): Promise<ChildProcess>
} {
  const projects: RuntimeProject[] = []
  const holders: ChildProcess[] = []
  afterEach(async () => {
    for (const holder of holders.splice(0)) killQuietly(holder.pid!)
    for (const project of projects.splice(0)) await project.cleanup()
  })
  return {
    open(fixture) {
      const project = new RuntimeProject(fixture)
      projects.push(project)
      return project
    },
    async holdPort(port) {
      const holder = spawn(
        process.execPath,
        ['-e', `require('net').createServer().listen(${port}, '0.0.0.0', () => console.log('ready'))`],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      )
      holders.push(holder)
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.once('data', () => resolve())
        holder.once('exit', (code) => reject(new Error(`the port holder exited ${code}`)))
      })
      return holder
    },
  }
}
