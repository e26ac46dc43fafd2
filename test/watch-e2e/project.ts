import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runDevenv } from '../support/cli.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

export interface StatusService {
  name: string
  state: string
  health: string
  address: string
  ports: { port: number; bound?: number }[]
  pid: number | null
  restarts: number
  message?: string
}

export interface LogLine {
  service: string
  stream: string
  text: string
}

/**
 * A copy of a fixture in a temp folder with its own machine home and hosts file, driven through
 * the built CLI as a user would. `cleanup()` brings it down and kills anything left behind.
 */
export class WatchProject {
  readonly root: string
  private readonly base: string

  constructor(fixture: string) {
    if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first')
    this.base = realpathSync(mkdtempSync(path.join(tmpdir(), `devenv-${fixture}-`)))
    this.root = path.join(this.base, 'project')
    cpSync(path.join(REPO, 'test', 'fixtures', fixture), this.root, { recursive: true })
    // Each machine home hands out loopback blocks from the first one up, so projects of other
    // homes (other tests on this machine) would get the same addresses: start at a random block.
    const home = path.join(this.base, 'home')
    mkdirSync(home, { recursive: true })
    const block = 2000 + Math.floor(Math.random() * 38_000)
    writeFileSync(path.join(home, 'addresses.json'), JSON.stringify({ [this.root]: { block, services: {} } }))
  }

  get env(): Record<string, string | undefined> {
    return {
      DEVENV_HOME: path.join(this.base, 'home'),
      DEVENV_HOSTS_FILE: path.join(this.base, 'hosts'),
      NO_COLOR: '1',
      FORCE_COLOR: undefined,
      DEVENV_DEBUG: undefined,
    }
  }

  file(relative: string): string {
    return path.join(this.root, relative)
  }

  /** Saves the way most editors do: a temporary file renamed over the original. */
  save(relative: string, content: string): void {
    const target = this.file(relative)
    const temporary = path.join(path.dirname(target), `.${path.basename(target)}.saving`)
    writeFileSync(temporary, content)
    renameSync(temporary, target)
  }

  async run(args: string[], timeout = 30_000): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const result = await runDevenv(args, { cwd: this.root, timeout, env: this.env })
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  async service(name: string): Promise<StatusService> {
    const result = await this.run(['status', '--json'])
    if (result.exitCode !== 0) throw new Error(`status failed: ${result.stderr}`)
    const found = (JSON.parse(result.stdout).result as { services: StatusService[] }).services.find(
      (entry) => entry.name === name,
    )
    if (!found) throw new Error(`no service ${name} in status: ${result.stdout}`)
    return found
  }

  async logs(name: string): Promise<LogLine[]> {
    const result = await this.run(['logs', name, '--json', '-n', '5000'])
    if (result.exitCode !== 0) throw new Error(`logs failed: ${result.stderr}`)
    return (JSON.parse(result.stdout).result as { lines: LogLine[] }).lines
  }

  /** What devenv itself wrote to the service's log ([devenv] lines) that contain `text`. */
  async notes(name: string, text: string): Promise<string[]> {
    return (await this.logs(name))
      .filter((line) => line.stream === 'devenv' && line.text.includes(text))
      .map((line) => line.text)
  }

  /** Processes whose working folder is inside the project (services, commands, the supervisor). */
  processes(): { pid: number; command: string }[] {
    const found: { pid: number; command: string }[] = []
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      try {
        if (/\) [ZX] /.test(readFileSync(`/proc/${entry}/stat`, 'utf8'))) continue
        const cwd = readlinkSync(`/proc/${entry}/cwd`)
        if (cwd !== this.root && !cwd.startsWith(`${this.root}/`)) continue
        found.push({
          pid: Number(entry),
          command: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim(),
        })
      } catch {
        // gone meanwhile
      }
    }
    return found
  }

  async cleanup(): Promise<void> {
    if (existsSync(this.root)) await this.run(['down', '--no-hosts'], 20_000).catch(() => undefined)
    for (const { pid } of this.processes()) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    rmSync(this.base, { recursive: true, force: true })
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((resolve) => setTimeout(resolve, everyMs))
  }
}

export async function get(address: string, port: number, urlPath = '/'): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${address}:${port}${urlPath}`, { signal: AbortSignal.timeout(3000) })
  return { status: response.status, body: await response.text() }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
