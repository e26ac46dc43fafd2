/**
 * The postgres box through the real runtime, as a user runs it: ./bin/devenv up/down/status/exec
 * and db reset in temp project folders, checked with the real psql client.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { databaseUrls } from '../../src/boxes/postgres/operations.js'
import { loadEnvfile } from '../../src/envfile/index.js'
import { ORDER_COUNT, PSQL, psql, seedProject } from './project.js'

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'devenv')
const PASSWORD = "s3cret p@ss'word"

/** A seeded fixture project with its own machine home and hosts file, run through ./bin/devenv. */
class Project {
  readonly root: string
  readonly home: string
  readonly hostsFile: string

  constructor() {
    if (!existsSync(path.join(path.dirname(BIN), '..', 'dist', 'cli', 'main.js')))
      throw new Error('dist/ is missing: run `npm run build` first')
    this.root = seedProject().root
    this.home = path.join(this.root, '.test-home')
    this.hostsFile = path.join(this.root, '.test-hosts')
    // Blocks are handed out per DEVENV_HOME, lowest first: a random high one keeps clear of other homes' projects.
    mkdirSync(this.home, { recursive: true })
    writeFileSync(
      path.join(this.home, 'addresses.json'),
      JSON.stringify({ [this.root]: { block: 2000 + Math.floor(Math.random() * 10_000), services: {} } }),
    )
  }

  async run(...args: string[]) {
    const result = await execa(BIN, args, {
      cwd: this.root,
      reject: false,
      timeout: 90_000,
      env: { DEVENV_HOME: this.home, DEVENV_HOSTS_FILE: this.hostsFile, NO_COLOR: '1', FORCE_COLOR: undefined },
    })
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
  }

  private cachedEndpoint?: { host: string; port: number }

  /** Where the service answers (its address is allocated once and kept across down/up). */
  async endpoint(): Promise<{ host: string; port: number }> {
    if (this.cachedEndpoint) return this.cachedEndpoint
    const status = await this.run('status', '--json')
    const db = (
      JSON.parse(status.stdout).result as {
        services: Array<{ name: string; address: string; ports: Array<{ port: number; bound?: number }> }>
      }
    ).services.find((service) => service.name === 'db')!
    this.cachedEndpoint = { host: db.address, port: db.ports[0]!.bound ?? db.ports[0]!.port }
    return this.cachedEndpoint
  }

  async query(sql: string): Promise<string> {
    return psql({ ...(await this.endpoint()), user: 'shopper', password: PASSWORD, database: 'shop' }, sql)
  }

  log(): string {
    const file = path.join(this.root, '.devenv', 'logs', 'db.log')
    return existsSync(file) ? readFileSync(file, 'utf8') : ''
  }

  async dispose(): Promise<void> {
    await this.run('down').catch(() => undefined)
    rmSync(this.root, { recursive: true, force: true })
  }
}

const seedingLines = (log: string) =>
  log.split('\n').filter((line) => line.includes('postgres: seeding shop from')).length

describe.skipIf(!existsSync(PSQL))('postgres through the runtime: devenv up, down, db reset', () => {
  const project = new Project()

  afterAll(() => project.dispose())

  test('devenv up seeds every file, and psql connects with the declared user and password', async () => {
    const up = await project.run('up')
    expect(up.exitCode, up.stderr).toBe(0)
    // plpgsql function ($body$) and a SQL function ($$)
    expect(await project.query('SELECT order_total(1) = (SELECT sum(amount) FROM orders WHERE person_id = 1)')).toBe(
      't',
    )
    expect(await project.query("SELECT greeting('Zoë')")).toBe('Hello, Zoë!')
    // CSV: quoted commas, doubled quotes, a newline in a field, non-ASCII text
    expect((await project.query('SELECT name FROM people ORDER BY id')).split('\n')).toEqual([
      'Smith, John',
      'Zoë Ångström',
      'Dvořák, Antonín',
      '東京太郎',
    ])
    expect(await project.query('SELECT note FROM people WHERE id = 2')).toBe('she said "hej"')
    // the gzip file of 5,000 inserts
    expect(await project.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(await project.query('SELECT current_user')).toBe('shopper')
    expect(seedingLines(project.log())).toBe(3)
    const { host, port } = await project.endpoint()
    expect(() => psql({ host, port, user: 'shopper', password: 'wrong', database: 'shop' }, 'SELECT 1')).toThrow(
      /password authentication failed/,
    )
  })

  test('devenv status --json shows the service running and healthy at its own address', async () => {
    const status = await project.run('status', '--json')
    expect(status.exitCode, status.stderr).toBe(0)
    const db = (JSON.parse(status.stdout).result as { services: Array<Record<string, unknown>> }).services.find(
      (service) => service.name === 'db',
    )
    expect(db).toMatchObject({ name: 'db', box: 'postgres', state: 'running', health: 'healthy' })
    expect(db!.address).toMatch(/^127\.\d+\.\d+\.\d+$/)
  })

  test('databaseUrls gives each database its URL, password masked unless asked; the real one connects', async () => {
    const spec = loadEnvfile({ file: path.join(project.root, 'devenv.yaml') })
    const { host, port } = await project.endpoint()
    const endpoint = { address: host, port: () => port }
    expect(databaseUrls(spec, 'db', { endpoint })).toEqual([`postgresql://shopper:****@${host}:${port}/shop`])
    const [url] = databaseUrls(spec, 'db', { showSecrets: true, endpoint })
    expect(url).toBe(`postgresql://shopper:${encodeURIComponent(PASSWORD)}@${host}:${port}/shop`)
    const viaUrl = await execa(PSQL, ['-X', '-At', url!, '-c', 'SELECT count(*) FROM people'], {
      env: { PGCONNECT_TIMEOUT: '5' },
    })
    expect(viaUrl.stdout).toBe('4')
  })

  test('devenv exec db -- env sees the service address and port', async () => {
    const result = await project.run('exec', 'db', '--', 'env')
    expect(result.exitCode, result.stderr).toBe(0)
    const { host, port } = await project.endpoint()
    expect(result.stdout).toMatch(new RegExp(`^HOST=${host.replace(/\./g, '\\.')}$`, 'm'))
    expect(result.stdout).toMatch(new RegExp(`^PORT=${port}$`, 'm'))
  })

  test('after down and up, rows written in between are kept and the seeds do not run again', async () => {
    await project.query("INSERT INTO people (id, name) VALUES (99, 'written between')")
    const down = await project.run('down')
    expect(down.exitCode, down.stderr).toBe(0)
    // Stopped, the URL still names the address the service gets again.
    const { host, port } = await project.endpoint()
    const home = process.env.DEVENV_HOME
    process.env.DEVENV_HOME = project.home
    try {
      expect(databaseUrls(loadEnvfile({ file: path.join(project.root, 'devenv.yaml') }), 'db')).toEqual([
        `postgresql://shopper:****@${host}:${port}/shop`,
      ])
    } finally {
      if (home === undefined) delete process.env.DEVENV_HOME
      else process.env.DEVENV_HOME = home
    }
    const up = await project.run('up')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(await project.query('SELECT name FROM people WHERE id = 99')).toBe('written between')
    expect(await project.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(seedingLines(project.log())).toBe(3)
    expect(project.log()).toMatch(/postgres: ready, every database present, \d+ ms after prepare began/)
  })

  test('an up with nothing changed leaves the role alone; a password changed in psql is given back at the next up', async () => {
    const dataDir = path.join(project.root, '.devenv', 'services', 'db', 'data')
    const superuser = JSON.parse(readFileSync(path.join(dataDir, 'superuser.json'), 'utf8')) as { password: string }
    const verifier = async () =>
      psql(
        { ...(await project.endpoint()), user: 'postgres', password: superuser.password, database: 'postgres' },
        "SELECT rolpassword FROM pg_authid WHERE rolname = 'shopper'",
      )
    const before = await verifier()
    expect((await project.run('down')).exitCode).toBe(0)
    expect((await project.run('up')).exitCode).toBe(0)
    // Set again, the verifier would have a new salt.
    expect(await verifier()).toBe(before)
    const marker = JSON.parse(readFileSync(path.join(dataDir, 'initialised.json'), 'utf8')) as {
      verifiedRoles?: Record<string, string>
    }
    expect(Object.keys(marker.verifiedRoles ?? {})).toEqual(['shopper'])

    await project.query("ALTER ROLE shopper PASSWORD 'changed behind devenv'")
    expect((await project.run('down')).exitCode).toBe(0)
    const up = await project.run('up')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(await project.query('SELECT 1')).toBe('1')
    const { host, port } = await project.endpoint()
    expect(() =>
      psql({ host, port, user: 'shopper', password: 'changed behind devenv', database: 'shop' }, 'SELECT 1'),
    ).toThrow(/password authentication failed/)
  })

  test('db reset after deleting rows brings back the seeded state, without the seeds', async () => {
    await project.query('DELETE FROM orders WHERE id > 10')
    await project.query("UPDATE people SET name = 'changed' WHERE id = 1")
    const reset = await project.run('db', 'reset', 'db', '--json')
    expect(reset.exitCode, reset.stderr).toBe(0)
    expect(JSON.parse(reset.stdout).result).toMatchObject({ service: 'db', database: 'shop', action: 'cloned' })
    expect(await project.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(await project.query('SELECT name FROM people WHERE id = 1')).toBe('Smith, John')
    expect(await project.query('SELECT count(*) FROM people WHERE id = 99')).toBe('0')
    expect(seedingLines(project.log())).toBe(3)
    // Twice more, back to back: whether or not the background spare is ready, the result is the same.
    for (let round = 0; round < 2; round++) {
      await project.query('DELETE FROM orders')
      const again = await project.run('db', 'reset', 'db')
      expect(again.exitCode, again.stderr).toBe(0)
      expect(await project.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    }
  })
})

describe.skipIf(!existsSync(PSQL))('postgres through the runtime: a broken seed file', () => {
  const project = new Project()
  const broken = path.join(project.root, 'db', 'data', '04-more.sql')

  beforeAll(() => {
    writeFileSync(
      broken,
      "-- more orders\nINSERT INTO orders (id, person_id, amount) VALUES (90001, 1, 1.5);\nINSERT INTO orders (id, person_id, amount) VALUES (90002, 1 'x');\n",
    )
  })
  afterAll(() => project.dispose())

  test('devenv up fails with exit 1, naming the file and the line', async () => {
    const up = await project.run('up')
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toContain(`${broken}:3`)
    expect(up.stderr).toMatch(/syntax error at or near "'x'"/)
  })

  test('after the fix, the next up seeds cleanly from the start', async () => {
    writeFileSync(
      broken,
      '-- more orders\nINSERT INTO orders (id, person_id, amount) VALUES (90001, 1, 1.5);\nINSERT INTO orders (id, person_id, amount) VALUES (90002, 1, 2.5);\n',
    )
    const up = await project.run('up')
    expect(up.exitCode, up.stderr).toBe(0)
    expect(await project.query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT + 2))
    expect(await project.query('SELECT count(*) FROM people')).toBe('4')
  })
})
