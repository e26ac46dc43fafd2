/**
 * The machine-wide cluster cache through ./bin/devenv: a cold `up` copies a fresh cluster instead of
 * running initdb, and a cold `up` with unchanged seeds copies the seeded cluster instead of seeding;
 * every project keeps its own copy and its own superuser password; a changed seed runs the seeds.
 */
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, describe, expect, test } from 'vitest'
import { PSQL, psql, seedProject, ORDER_COUNT } from './project.js'
import { tempRoot } from './harness.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'devenv')
const PASSWORD = "s3cret p@ss'word"
const home = tempRoot('devenv-pg-cache-home-')
const cache = path.join(home, 'cache', 'postgres')

class Project {
  readonly root = seedProject().root

  constructor() {
    // Blocks are handed out per DEVENV_HOME, lowest first: random high ones keep clear of other homes' projects.
    const table = JSON.parse(
      existsSync(path.join(home, 'addresses.json')) ? readFileSync(path.join(home, 'addresses.json'), 'utf8') : '{}',
    ) as Record<string, unknown>
    table[this.root] = { block: 2000 + Math.floor(Math.random() * 10_000), services: {} }
    writeFileSync(path.join(home, 'addresses.json'), JSON.stringify(table))
  }

  async run(...args: string[]) {
    const result = await execa(BIN, args, {
      cwd: this.root,
      reject: false,
      timeout: 120_000,
      env: {
        DEVENV_HOME: home,
        DEVENV_HOSTS_FILE: path.join(this.root, '.test-hosts'),
        NO_COLOR: '1',
        FORCE_COLOR: undefined,
        // Each cold up's entry gets its ready copy at once (cluster-spare.ts), not 10 s later.
        DEVENV_CLUSTER_SPARE_AFTER_MS: '0',
      },
    })
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  async endpoint(): Promise<{ host: string; port: number }> {
    const status = await this.run('status', '--json')
    const db = (
      JSON.parse(status.stdout).result as {
        services: Array<{ name: string; address: string; ports: Array<{ port: number; bound?: number }> }>
      }
    ).services.find((service) => service.name === 'db')!
    return { host: db.address, port: db.ports[0]!.bound ?? db.ports[0]!.port }
  }

  async query(sql: string, user = 'shopper', password = PASSWORD, database = 'shop'): Promise<string> {
    return psql({ ...(await this.endpoint()), user, password, database }, sql)
  }

  superuserPassword(): string {
    return (
      JSON.parse(readFileSync(path.join(this.root, '.devenv', 'services', 'db', 'data', 'superuser.json'), 'utf8')) as {
        password: string
      }
    ).password
  }

  log(): string {
    const file = path.join(this.root, '.devenv', 'logs', 'db.log')
    return existsSync(file) ? readFileSync(file, 'utf8') : ''
  }

  /** A cold start: nothing of the project on disk. */
  async coldUp(): Promise<string> {
    await this.run('destroy', '--force')
    const up = await this.run('up')
    expect(up.exitCode, up.stderr).toBe(0)
    return this.log()
  }

  async dispose(): Promise<void> {
    await this.run('down').catch(() => undefined)
    rmSync(this.root, { recursive: true, force: true })
  }
}

const INITDB = 'creating the database cluster (initdb)'
const SEEDED_CACHED = /the seeded cluster \(\w+\) cached/

/** Caching ends in the background after `up` (the flush to disk): wait for its line. */
async function cached(made: Project, pattern: RegExp, count = 1): Promise<void> {
  const deadline = Date.now() + 60_000
  while ((made.log().match(new RegExp(pattern, 'g')) ?? []).length < count) {
    if (Date.now() > deadline) throw new Error(`never logged ${pattern}:\n${made.log()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const seedingLines = (log: string) =>
  log.split('\n').filter((line) => line.includes('postgres: seeding shop from')).length
const entries = (prefix: string) =>
  existsSync(cache) ? readdirSync(cache).filter((name) => name.startsWith(prefix)) : []

describe.skipIf(!existsSync(PSQL))('postgres cluster cache: cold up copies instead of initdb and seeding', () => {
  const projects: Project[] = []
  const project = (): Project => {
    const made = new Project()
    projects.push(made)
    return made
  }
  afterAll(async () => {
    await Promise.all(projects.map((made) => made.dispose()))
    rmSync(home, { recursive: true, force: true })
  })

  const first = project()

  test('the first cold up runs initdb and the seeds once, and caches both results (0700, no superuser password kept)', async () => {
    const log = await first.coldUp()
    expect(log).toContain(INITDB)
    expect(seedingLines(log)).toBeGreaterThan(0)
    await cached(first, /the fresh cluster cached/)
    await cached(first, SEEDED_CACHED)
    expect(await first.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(entries('base-')).toHaveLength(1)
    expect(entries('seeded-')).toHaveLength(1)
    expect(entries('.building-')).toHaveLength(0)
    expect(statSync(cache).mode & 0o777).toBe(0o700)
    const entry = path.join(cache, entries('seeded-')[0]!)
    expect(statSync(path.join(entry, 'initialised.json')).mode & 0o777).toBe(0o600)
    expect(existsSync(path.join(entry, 'superuser.json'))).toBe(false)
    // the project's own superuser password works over TCP
    expect(await first.query('SELECT current_user', 'postgres', first.superuserPassword(), 'postgres')).toBe('postgres')
  })

  test('a second cold up with unchanged seeds copies the seeded cluster: no initdb, no seeds; data and a new superuser password are right', async () => {
    const before = first.superuserPassword()
    const log = await first.coldUp()
    expect(log).toMatch(/cluster (copied|moved in \(one rename of its ready copy;.*\)) from the seeded cache/)
    expect(log).not.toContain(INITDB)
    expect(seedingLines(log)).toBe(0)
    expect(await first.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    const after = first.superuserPassword()
    expect(after).not.toBe(before)
    expect(await first.query('SELECT current_user', 'postgres', after, 'postgres')).toBe('postgres')
    await expect(first.query('SELECT 1', 'postgres', before, 'postgres')).rejects.toThrow(
      /password authentication failed/,
    )
    // db reset still finds the seeded template the copy brought along
    await first.query('DELETE FROM orders')
    const reset = await first.run('db', 'reset', 'db', '--json')
    expect(reset.exitCode, reset.stderr).toBe(0)
    expect(await first.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
  })

  test('another project with the same seeds gets its own copy and its own superuser password', async () => {
    const second = project()
    const log = await second.coldUp()
    expect(log).toMatch(/cluster (copied|moved in \(one rename of its ready copy;.*\)) from the seeded cache/)
    await first.query('DELETE FROM orders WHERE id <= 10')
    expect(await second.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(await first.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT - 10))
    await expect(second.query('SELECT 1', 'postgres', first.superuserPassword(), 'postgres')).rejects.toThrow(
      /password authentication failed/,
    )
    expect(await second.query('SELECT current_user', 'postgres', second.superuserPassword(), 'postgres')).toBe(
      'postgres',
    )
    await second.run('down')
  })

  test('a cold up leaves a ready copy of its entry, which the next cold up takes with one rename: its own data and password', async () => {
    const spare = path.join(cache, `.spare-${entries('seeded-')[0]}`)
    await until(() => existsSync(path.join(spare, 'PG_VERSION')), `a ready copy at ${spare}`)
    const third = project()
    const log = await third.coldUp()
    expect(log).toMatch(
      /cluster moved in \(one rename of its ready copy; the next one is made in the background\) from the seeded cache/,
    )
    expect(log).not.toContain(INITDB)
    expect(seedingLines(log)).toBe(0)
    expect(await third.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(await third.query('SELECT current_user', 'postgres', third.superuserPassword(), 'postgres')).toBe('postgres')
    await expect(third.query('SELECT 1', 'postgres', first.superuserPassword(), 'postgres')).rejects.toThrow(
      /password authentication failed/,
    )
    // The entry is what it was, and the next copy is made again in the background.
    expect(existsSync(path.join(cache, entries('seeded-')[0]!, 'pgdata', 'PG_VERSION'))).toBe(true)
    await until(() => existsSync(path.join(spare, 'PG_VERSION')), `a new ready copy at ${spare}`)
    // Copies made at once by earlier cold ups race for the name: the losers remove theirs.
    await until(() => entries('.spare-building-').length === 0, 'every half-made copy removed')
    await third.run('down')
  })

  test('a changed seed file runs the seeds (from a copied fresh cluster, no initdb) and caches a second entry', async () => {
    appendFileSync(path.join(first.root, 'db', '01-schema.sql'), "\nCOMMENT ON TABLE orders IS 'changed seed';\n")
    const log = await first.coldUp()
    expect(log).toMatch(/fresh cluster (copied|moved in .*) from the machine-wide cache/)
    expect(log).not.toContain(INITDB)
    expect(seedingLines(log)).toBeGreaterThan(0)
    expect(await first.query("SELECT obj_description('orders'::regclass)")).toBe('changed seed')
    await cached(first, SEEDED_CACHED)
    expect(entries('seeded-')).toHaveLength(2)
  })

  test('two projects cold-up at once with new seeds: both fine, one cache entry, nothing left half-built', async () => {
    const pair = [project(), project()]
    for (const made of pair)
      appendFileSync(path.join(made.root, 'db', '01-schema.sql'), "\nCOMMENT ON TABLE orders IS 'raced';\n")
    const logs = await Promise.all(pair.map((made) => made.coldUp()))
    for (const [index, made] of pair.entries()) {
      expect(await made.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
      expect(await made.query("SELECT obj_description('orders'::regclass)")).toBe('raced')
      expect(await made.query('SELECT current_user', 'postgres', made.superuserPassword(), 'postgres')).toBe('postgres')
      expect(logs[index]).not.toContain(INITDB)
      await cached(made, SEEDED_CACHED)
    }
    expect(entries('seeded-')).toHaveLength(3)
    expect(entries('base-')).toHaveLength(1)
    expect(entries('.building-')).toHaveLength(0)
    await Promise.all(pair.map((made) => made.run('down')))
  })

  test('a broken seed still fails with its file and line, and caches nothing', async () => {
    const broken = project()
    const schema = path.join(broken.root, 'db', '01-schema.sql')
    writeFileSync(schema, `${readFileSync(schema, 'utf8')}\nCREATE TABLE broken (;\n`)
    mkdirSync(path.join(broken.root, '.devenv'), { recursive: true })
    const seededBefore = entries('seeded-').length
    await broken.run('destroy', '--force')
    const up = await broken.run('up')
    expect(up.exitCode).not.toBe(0)
    expect(`${up.stderr}\n${broken.log()}`).toContain(`${schema}:`)
    expect(entries('seeded-')).toHaveLength(seededBefore)
  })
})
