/** A fixture project booted on the bundled runtime, with psql against its PostgreSQL services. */
import { execFileSync } from 'node:child_process'
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { RuntimeProject, service } from '../runtime/helpers.js'

export const PSQL = '/usr/bin/psql'

export class PgProject extends RuntimeProject {
  /** `home`: share another project's machine home (and so its box store); its address table is kept. */
  constructor(fixture: string, options: { home?: string } = {}) {
    super(fixture, options)
    // PostgreSQL runs as an unprivileged user when we are root: it must be able to reach the project.
    chmodSync(path.dirname(this.root), 0o755)
    if (options.home) return
    // A loopback block of its own: every fresh DEVENV_HOME would otherwise hand out block 1
    // (127.64.1.x), which other projects on this machine (other test runs) may be using.
    mkdirSync(this.home, { recursive: true })
    const block = 2000 + Math.floor(Math.random() * 40_000)
    writeFileSync(path.join(this.home, 'addresses.json'), JSON.stringify({ [this.root]: { block, services: {} } }))
  }

  /** `devenv ARGS`, failing the test with its output unless it exits 0. */
  async ok(args: string[], timeout = 60_000): Promise<string> {
    const result = await this.run(args, { timeout })
    if (result.exitCode !== 0)
      throw new Error(`devenv ${args.join(' ')} exited ${result.exitCode}\n${result.stdout}\n${result.stderr}`)
    return result.stdout
  }

  async address(name: string): Promise<string> {
    return service(await this.status(), name).address
  }

  /** One query through the real psql client over TCP; rows as "a|b" lines. */
  async sql(name: string, database: string, query: string): Promise<string> {
    const host = await this.address(name)
    return execFileSync(
      PSQL,
      [
        '-X',
        '-q',
        '-At',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        host,
        '-p',
        '5432',
        '-U',
        database,
        '-d',
        database,
        '-c',
        query,
      ],
      {
        encoding: 'utf8',
        env: { ...process.env, PGPASSWORD: database, PGCONNECT_TIMEOUT: '5' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ).trim()
  }

  serviceDir(name: string): string {
    return path.join(this.root, '.devenv', 'services', name)
  }

  /** What a snapshot operation may leave in a service folder: anything beside data/ and run/. */
  leftovers(name: string): string[] {
    const dir = this.serviceDir(name)
    if (!existsSync(dir)) return []
    return readdirSync(dir)
      .filter((entry) => entry !== 'data' && entry !== 'run')
      .sort()
  }
}
