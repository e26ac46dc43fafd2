import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { findClientTool, serverMajorVersion } from '../../src/boxes/postgres/binaries.js'
import { REPO, RuntimeProject } from '../runtime/helpers.js'

const ISO_TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g

describe('a running stack, as a new user drives it', () => {
  let project: RuntimeProject

  beforeAll(async () => {
    project = new RuntimeProject('cli-stack')
    // PostgreSQL runs as the user devenv, who must reach its data folder inside the project
    chmodSync(path.dirname(project.root), 0o755)
    const up = await project.run(['up'], { timeout: 90_000 })
    expect(up.exitCode, up.stderr).toBe(0)
  }, 120_000)

  afterAll(async () => {
    await project?.cleanup()
  })

  it('status takes service names', async () => {
    const text = await project.run(['status', 'web'])
    expect(text.exitCode, text.stderr).toBe(0)
    expect(text.stdout).toMatch(/^web +process +running/m)
    expect(text.stdout).not.toMatch(/^(lb|db) /m)
    const json = JSON.parse((await project.run(['status', 'web', 'db', '--json'])).stdout)
    expect(json.result.services.map((service: { name: string }) => service.name)).toEqual(['web', 'db'])
    const unknown = await project.run(['status', 'nope'])
    expect(unknown.exitCode).toBe(2)
    expect(unknown.stderr).toMatch(/no service named "nope"/)
  })

  it('exec in a postgres service has PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE of its first database', async () => {
    const status = await project.status()
    const db = status.services.find((service) => service.name === 'db')!
    const env = await project.run(['exec', 'db', '--', 'env'])
    expect(env.exitCode, env.stderr).toBe(0)
    expect(env.stdout).toContain(`PGHOST=${db.address}\n`)
    expect(env.stdout).toContain(`PGPORT=${db.ports[0]!.bound ?? 5432}\n`)
    expect(env.stdout).toMatch(/^PGUSER=shopper$/m)
    expect(env.stdout).toMatch(/^PGPASSWORD=shop-secret$/m)
    expect(env.stdout).toMatch(/^PGDATABASE=shop$/m)
    // A libpq-style client with no arguments reaches the database (node-postgres reads the same variables).
    const pg = path.join(REPO, 'node_modules', 'pg', 'lib', 'index.js')
    const script = `const { Client } = require(${JSON.stringify(pg)}); const c = new Client(); c.connect().then(() => c.query('select count(*) as n from items')).then((r) => { console.log(r.rows[0].n); return c.end() })`
    const query = await project.run(['exec', 'db', '--', 'node', '-e', script])
    expect(query.exitCode, query.stderr).toBe(0)
    expect(query.stdout.trim()).toBe('2')
    // Other services' environments are left as they were.
    expect((await project.run(['exec', 'web', '--', 'env'])).stdout).not.toMatch(/^PGHOST=/m)
  })

  it('logs -n 0 prints no past line, -t one time per line, and the start line names the command whole', async () => {
    const none = JSON.parse((await project.run(['logs', '-n', '0', '--json'])).stdout)
    expect(none.result.lines).toEqual([])
    const stamped = await project.run(['logs', 'lb', '-t'])
    const lines = stamped.stdout.split('\n').filter(Boolean)
    expect(lines.length).toBeGreaterThan(0)
    for (const line of lines) expect(line.match(ISO_TIME), line).toHaveLength(1)
    const web = await project.run(['logs', 'web'])
    const started = web.stdout.split('\n').find((line) => line.includes('started pid'))
    expect(started).toMatch(/started pid \d+: .*node server\.mjs$/)
    expect(web.stdout).not.toMatch(/set -e|mount -t/)
  })

  it("open prints the balancer's URL, and hands it to xdg-open where there is a desktop", async () => {
    const printed = await project.run(['open', '--print'])
    expect(printed.exitCode, printed.stderr).toBe(0)
    expect(printed.stdout.trim()).toBe('http://lb.cli.test:8000/')
    const bin = mkdtempSync(path.join(tmpdir(), 'devenv-open-'))
    const record = path.join(bin, 'opened')
    writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\necho "$1" > ${record}\n`)
    chmodSync(path.join(bin, 'xdg-open'), 0o755)
    const opened = await execa(path.join(REPO, 'bin', 'devenv'), ['open', 'web', '--json'], {
      cwd: project.root,
      reject: false,
      env: { ...project.env, PATH: `${bin}:${process.env.PATH}`, DISPLAY: ':99' },
    })
    expect(JSON.parse(opened.stdout)).toMatchObject({
      ok: true,
      result: { service: 'web', url: 'http://web.cli.test:8080/', opened: true },
    })
    const deadline = Date.now() + 5000
    while (!existsSync(record) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
    expect(readFileSync(record, 'utf8').trim()).toBe('http://web.cli.test:8080/')
    const headless = await execa(path.join(REPO, 'bin', 'devenv'), ['open'], {
      cwd: project.root,
      reject: false,
      env: { ...project.env, DISPLAY: '', WAYLAND_DISPLAY: '' },
    })
    expect(headless.exitCode).toBe(0)
    expect(headless.stdout.trim()).toBe('http://lb.cli.test:8000/')
    expect(headless.stderr).toMatch(/no browser to open here/)
    const database = await project.run(['open', 'db'])
    expect(database.exitCode).toBe(2)
    expect(database.stderr).toMatch(/service db is a postgres box: it has no web page to open/)
  })

  it('db dump without a pg_dump for the server refuses before writing anything, saying how to get one', async () => {
    const output = path.join(project.root, 'dump.sql')
    const dumped = await project.run(['db', 'dump', '-o', output])
    // The server is the bundled PostgreSQL 17; pg_dump refuses servers newer than itself.
    if (findClientTool('pg_dump', serverMajorVersion())) {
      expect(dumped.exitCode, dumped.stderr).toBe(0)
      expect(readFileSync(output, 'utf8')).toMatch(/CREATE TABLE public\.items/)
    } else {
      expect(dumped.exitCode).toBe(1)
      expect(dumped.stderr).toMatch(/db dump needs pg_dump 17 or newer/)
      expect(dumped.stderr).toMatch(
        /Nothing was written\. Get pg_dump 17: .*postgresql-client-17|brew install postgresql@17/,
      )
      expect(existsSync(output)).toBe(false)
    }
  })

  it('poweroff stops every running project on the machine', async () => {
    const result = await project.run(['poweroff', '--json'], { timeout: 60_000 })
    expect(result.exitCode, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      result: { projects: [{ name: 'cli-stack', stopped: true }] },
      warnings: [],
    })
    const after = await project.status()
    expect(after.supervisor.running).toBe(false)
    const again = await project.run(['poweroff'])
    expect(again.stdout).toMatch(/No devenv project is running on this machine/)
  }, 90_000)
})

describe('a seed that fails', () => {
  let project: RuntimeProject

  beforeAll(() => {
    project = new RuntimeProject('cli-broken-seed')
    chmodSync(path.dirname(project.root), 0o755)
  })

  afterAll(async () => {
    await project?.cleanup()
  })

  it("up is headed by the seed file, its line and PostgreSQL's message", async () => {
    const up = await project.run(['up'], { timeout: 90_000 })
    expect(up.exitCode).toBe(1)
    const headline = up.stderr.split('\n').find((line) => line.startsWith('✖ ') && !line.includes('[FAILED'))
    expect(headline).toBe(
      `✖ seeding database shop failed at ${path.join(project.root, 'db', '01.sql')}:3: column "nope" does not exist`,
    )
  }, 120_000)
})
