import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, test } from 'vitest'
import { DevenvError } from '../../src/errors.js'
import { createHarness, tempRoot, type Harness } from './harness.js'
import { psql } from './project.js'
import { cpSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'postgres-broken-seed')

describe('postgres box: a broken seed file', () => {
  const root = tempRoot()
  cpSync(fixture, root, { recursive: true })
  const dataFile = path.join(root, 'db', '02-data.sql')
  const good = readFileSync(dataFile, 'utf8')
  const database = { name: 'inventory', user: 'keeper', password: 'keeper', seed: [path.join(root, 'db')] }
  let harness: Harness

  afterAll(async () => {
    await harness?.dispose()
    rmSync(root, { recursive: true, force: true })
  })

  async function startExpectingFailure(): Promise<DevenvError> {
    harness = await createHarness({ databases: [database], root: path.join(root, 'service') })
    const failure = await harness.start().then(
      () => undefined,
      (error: unknown) => error,
    )
    await harness.stop()
    expect(failure).toBeInstanceOf(DevenvError)
    return failure as DevenvError
  }

  test("a syntax error names the file, the line and PostgreSQL's message; nothing half-seeded stays", async () => {
    writeFileSync(dataFile, good.replace("(4, 'four');", "(4 'four');"))
    const error = await startExpectingFailure()
    expect(error.code).toBe('DATABASE')
    expect(error.exitCode).toBe(1)
    expect(error.message).toContain(`${dataFile}:6:`)
    expect(error.message).toMatch(/syntax error at or near "'four'"/)
    expect(error.location).toEqual({ file: dataFile, line: 6 })
    expect(existsSync(path.join(harness.context.dataDir, 'initialised.json'))).toBe(false)
  })

  test('an error found while executing (no position from PostgreSQL) still gets its line', async () => {
    writeFileSync(dataFile, good.replace("(3, 'three')", "(1, 'three')"))
    const error = await startExpectingFailure()
    expect(error.message).toContain(`${dataFile}:5:`)
    expect(error.message).toMatch(/duplicate key value violates unique constraint "items_pkey"/)
  })

  test('after fixing it, the next start seeds cleanly', async () => {
    writeFileSync(dataFile, good)
    await harness.start()
    const rows = psql(
      {
        host: harness.context.address,
        port: harness.context.port(5432),
        user: 'keeper',
        password: 'keeper',
        database: 'inventory',
      },
      'SELECT id FROM items ORDER BY id',
    )
    expect(rows).toBe('1\n2\n3\n4')
    const databases = psql(
      {
        host: harness.context.address,
        port: harness.context.port(5432),
        user: 'keeper',
        password: 'keeper',
        database: 'inventory',
      },
      "SELECT count(*) FROM pg_database WHERE datname LIKE 'inventory%' AND datname NOT LIKE '%\\_\\_spare\\_%'",
    )
    // the database and exactly one seeded template (and the spare cloned from it in the background): no leftovers of the failed attempts
    expect(databases).toBe('2')
    expect(existsSync(path.join(harness.context.dataDir, 'initialised.json'))).toBe(true)
  })
})
