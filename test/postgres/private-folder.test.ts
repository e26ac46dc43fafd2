/**
 * Root in a container or a CI job, with the project in /root (or any 0700 folder): PostgreSQL,
 * which refuses root, must still just work, without loosening the folders and without a system user.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { psql, seedProject } from './project.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'devenv')
const asRoot = process.getuid?.() === 0
if (!asRoot) process.stdout.write('private-folder suite skipped: it needs root (CI runs it as root)\n')

describe.skipIf(!asRoot)('as root, a postgres project in a private (0700) folder under /root', () => {
  let parent: string
  let root: string
  let home: string
  const env = (): Record<string, string | undefined> => ({
    DEVENV_HOME: home,
    DEVENV_HOSTS_FILE: path.join(parent, 'hosts'),
    NO_COLOR: '1',
  })
  const run = async (...args: string[]) => {
    const result = await execa(BIN, args, { cwd: root, reject: false, timeout: 90_000, env: env() })
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  beforeAll(() => {
    parent = mkdtempSync('/root/devenv-private-')
    expect(statSync(parent).mode & 0o777).toBe(0o700)
    root = path.join(parent, 'project')
    cpSync(seedProject().root, root, { recursive: true })
    home = path.join(parent, 'home')
    mkdirSync(home, { recursive: true })
    writeFileSync(
      path.join(home, 'addresses.json'),
      JSON.stringify({ [root]: { block: 2000 + Math.floor(Math.random() * 10_000), services: {} } }),
    )
  })

  afterAll(async () => {
    await run('down', '--no-hosts')
    rmSync(parent, { recursive: true, force: true })
  })

  test("up works, the data is seeded and stays root's, and no folder was opened up", async () => {
    const passwdBefore = readFileSync('/etc/passwd', 'utf8')
    const up = await run('up', '--no-hosts')
    expect(up.exitCode, up.stderr).toBe(0)
    const status = JSON.parse((await run('status', '--json')).stdout).result as {
      services: Array<{ address: string; pid: number; ports: Array<{ port: number; bound: number }> }>
    }
    const db = status.services[0]!
    expect(
      psql(
        { host: db.address, port: db.ports[0]!.bound, user: 'shopper', password: "s3cret p@ss'word", database: 'shop' },
        'SELECT count(*) FROM orders',
      ),
    ).toBe('5000')
    // The server is not root to itself (PostgreSQL refuses that): it runs in a user namespace of its own, as root outside.
    expect(readlinkSync(`/proc/${db.pid}/ns/user`)).not.toBe(readlinkSync('/proc/self/ns/user'))
    expect(statSync(`/proc/${db.pid}`).uid).toBe(0)
    expect(statSync(path.join(root, '.devenv', 'services', 'db', 'data')).uid).toBe(0)
    expect(statSync(parent).mode & 0o777).toBe(0o700)
    expect(readFileSync('/etc/passwd', 'utf8')).toBe(passwdBefore)
    // And back after a restart of the stack.
    expect((await run('down', '--no-hosts')).exitCode).toBe(0)
    expect((await run('up', '--no-hosts')).exitCode).toBe(0)
  })
})
