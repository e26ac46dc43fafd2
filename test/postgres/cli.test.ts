import { execFile } from 'node:child_process'
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connectionUrl } from '../../src/boxes/postgres/operations.js'
import { serviceEndpoint } from '../../src/engine/index.js'
import { loadEnvfile } from '../../src/envfile/index.js'
import { processStartTicks } from '../../src/runtime/bundled/process.js'
import { writeProjectState } from '../../src/state/project-state.js'
import { createHarness, type Harness } from './harness.js'
import { ORDER_COUNT, psql, seedProject } from './project.js'

const run = promisify(execFile)
const cli = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'devenv')

async function devenv(cwd: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(cli, args, { cwd, env: { ...process.env, NO_COLOR: '1' } })
    return { code: 0, stdout, stderr }
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string }
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr }
  }
}

describe('devenv db commands, run as a user would against a running postgres service', () => {
  const project = seedProject()
  let harness: Harness
  let query: (sql: string) => string

  beforeAll(async () => {
    harness = await createHarness({ databases: [project.database], root: project.serviceRoot })
    await harness.start()
    const { address } = harness.context
    const port = harness.context.port(5432)
    // What a supervisor that has since gone would have written: the service runs at this address
    // (this test process stands in for its live pid, so the runtime takes it for running).
    writeProjectState({
      project: 'pgtest',
      root: project.root,
      envfile: path.join(project.root, 'devenv.yaml'),
      services: {
        db: {
          name: 'db',
          box: 'postgres',
          kind: 'postgres',
          state: 'running',
          health: 'healthy',
          address,
          hostnames: [],
          ports: [{ port: 5432, bound: port, address }],
          restarts: 0,
          pid: process.pid,
          pidStart: processStartTicks(process.pid),
        },
      },
      updatedAt: new Date().toISOString(),
    })
    query = (sql) =>
      psql({ host: address, port, user: 'shopper', password: project.database.password, database: 'shop' }, sql)
  })

  afterAll(async () => {
    await harness?.dispose()
    rmSync(project.root, { recursive: true, force: true })
  })

  test('db reset --json restores deleted rows from the template', async () => {
    query('DELETE FROM orders')
    const result = await devenv(project.root, 'db', 'reset', 'db', '--json')
    expect(result.code, result.stderr).toBe(0)
    const report = JSON.parse(result.stdout).result
    expect(report).toMatchObject({ service: 'db', database: 'shop', action: 'cloned' })
    expect(query('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
  })

  test('db seed reruns the seeds into a fresh database', async () => {
    query("INSERT INTO people (id, name) VALUES (50, 'temporary')")
    const result = await devenv(project.root, 'db', 'seed', '--db', 'shop')
    expect(result.code, result.stderr).toBe(0)
    expect(result.stdout).toMatch(/db\/shop seeded from 3 file\(s\)/)
    expect(query('SELECT count(*) FROM people')).toBe('4')
  })

  test('db import runs a SQL file in one transaction and names the failing line', async () => {
    const good = path.join(project.root, 'extra.sql')
    writeFileSync(
      good,
      "INSERT INTO people (id, name) VALUES (60, 'imported');\nCREATE FUNCTION twice(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN x * 2; END; $$;\n",
    )
    const ok = await devenv(project.root, 'db', 'import', 'db', good, '--json')
    expect(ok.code, ok.stderr).toBe(0)
    expect(JSON.parse(ok.stdout).result).toMatchObject({ database: 'shop', format: 'sql' })
    expect(query('SELECT twice(21)')).toBe('42')

    const bad = path.join(project.root, 'bad.sql')
    writeFileSync(bad, "INSERT INTO people (id, name) VALUES (61, 'kept?');\n\nINSERT INTO nowhere VALUES (1);\n")
    const failed = await devenv(project.root, 'db', 'import', 'db', bad)
    expect(failed.code).toBe(1)
    expect(failed.stderr).toContain(`${bad}:3`)
    expect(failed.stderr).toMatch(/relation "nowhere" does not exist/)
    expect(failed.stderr).not.toMatch(/\n\s+at .*\.js/)
    expect(query('SELECT count(*) FROM people WHERE id = 61')).toBe('0')
  })

  test('db dump writes a dump when a new enough pg_dump exists, and otherwise says why', async () => {
    const output = path.join(project.root, 'shop.sql.gz')
    const result = await devenv(project.root, 'db', 'dump', 'db', '-o', output, '--json')
    const envelope = JSON.parse(result.stdout)
    if (result.code === 0) {
      expect(envelope.result).toMatchObject({ database: 'shop', format: 'gzip' })
      expect(statSync(output).size).toBeGreaterThan(1000)
    } else {
      expect(result.code).toBe(1)
      expect(envelope.error.code).toBe('DATABASE')
      expect(envelope.error.message).toMatch(/db dump needs pg_dump 17 or newer/)
      expect(existsSync(output)).toBe(false)
    }
  })

  test('bad usage exits 2', async () => {
    const unknownDb = await devenv(project.root, 'db', 'reset', 'db', '--db', 'nope')
    expect(unknownDb.code).toBe(2)
    expect(unknownDb.stderr).toMatch(/declares no database nope/)
    const missingFile = await devenv(project.root, 'db', 'import', 'db', 'missing.sql')
    expect(missingFile.code).toBe(2)
  })

  test('connectionUrl masks the password unless asked', async () => {
    const spec = loadEnvfile({ file: path.join(project.root, 'devenv.yaml') })
    const port = harness.context.port(5432)
    const endpoint = await serviceEndpoint(spec, 'db')
    expect(connectionUrl(spec, 'db', 'shop', { endpoint })).toBe(
      `postgresql://shopper:****@${harness.context.address}:${port}/shop`,
    )
    const url = connectionUrl(spec, 'db', undefined, { showSecrets: true, endpoint })
    expect(decodeURIComponent(new URL(url).password)).toBe(project.database.password)
    expect(readFileSync(path.join(project.root, '.devenv', 'state.json'), 'utf8')).not.toContain(
      project.database.password,
    )
  })
})
