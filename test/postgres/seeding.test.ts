import { appendFileSync, existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { connect } from '../../src/boxes/postgres/connection.js'
import { resetDatabase } from '../../src/boxes/postgres/databases.js'
import { maintain, maintenanceSettled } from '../../src/boxes/postgres/maintenance.js'
import { dropDatabase } from '../../src/boxes/postgres/swap.js'
import { connectionTarget, createHarness, type Harness } from './harness.js'
import { ORDER_COUNT, psql, seedProject } from './project.js'

describe('postgres box: seeding, restart, reset', () => {
  const project = seedProject()
  let harness: Harness
  let client: (sql: string) => string

  beforeAll(async () => {
    harness = await createHarness({ databases: [project.database], root: project.serviceRoot })
    await harness.start()
    client = (sql) =>
      psql(
        {
          host: harness.context.address,
          port: harness.context.port(5432),
          user: 'shopper',
          password: project.database.password,
          database: 'shop',
        },
        sql,
      )
  })

  afterAll(async () => {
    await harness?.dispose()
    rmSync(project.root, { recursive: true, force: true })
  })

  test('psql connects with the declared user and password and sees every seed', () => {
    expect(client('SELECT current_user')).toBe('shopper')
    // plpgsql function with a $body$ body, and a $$ SQL function
    expect(client('SELECT order_total(1)')).toBe(client('SELECT sum(amount) FROM orders WHERE person_id = 1'))
    expect(client("SELECT greeting('Zoë')")).toBe('Hello, Zoë!')
    // CSV: quoted commas, doubled quotes, a newline inside a field, non-ASCII text
    expect(client('SELECT name FROM people ORDER BY id').split('\n')).toEqual([
      'Smith, John',
      'Zoë Ångström',
      'Dvořák, Antonín',
      '東京太郎',
    ])
    expect(client('SELECT note FROM people WHERE id = 2')).toBe('she said "hej"')
    expect(client('SELECT note FROM people WHERE id = 3')).toBe('multi\nline')
    expect(client('SELECT city FROM people WHERE id = 4')).toBe('東京')
    // the gzip file of 5,000 inserts
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    // the seeds ran as the owner
    expect(client("SELECT tableowner FROM pg_tables WHERE tablename = 'orders'")).toBe('shopper')
  })

  test('a wrong password is refused, and the server listens on its own address only', () => {
    expect(() =>
      psql(
        {
          host: harness.context.address,
          port: harness.context.port(5432),
          user: 'shopper',
          password: 'wrong',
          database: 'shop',
        },
        'SELECT 1',
      ),
    ).toThrow(/password authentication failed/)
    const other = harness.context.address === '127.0.0.1' ? '127.0.0.2' : '127.0.0.1'
    expect(() =>
      psql(
        {
          host: other,
          port: harness.context.port(5432),
          user: 'shopper',
          password: project.database.password,
          database: 'shop',
        },
        'SELECT 1',
      ),
    ).toThrow(/Connection refused|could not connect/)
  })

  const superuser = (sql: string) =>
    psql(
      {
        host: harness.context.address,
        port: harness.context.port(5432),
        user: 'postgres',
        password: connectionTarget(harness).superuserPassword,
        database: 'postgres',
      },
      sql,
    )

  test('after a restart on the same data, rows written in between are kept and the seeds do not run again', async () => {
    client("INSERT INTO people (id, name) VALUES (99, 'written between')")
    const verifier = superuser("SELECT rolpassword FROM pg_authid WHERE rolname = 'shopper'")
    await harness.stop()
    const before = harness.logs.length
    const { bootMs } = await harness.start()
    expect(harness.logs.slice(before).join('')).not.toMatch(/seeding|seeded/)
    expect(client('SELECT name FROM people WHERE id = 99')).toBe('written between')
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(bootMs).toBeGreaterThan(0)
    // A start whose passwords did not change writes no role: the verifier (random salt) is the same.
    expect(superuser("SELECT rolpassword FROM pg_authid WHERE rolname = 'shopper'")).toBe(verifier)
  })

  test('a database left closed by a reset killed mid-swap is opened again at the next start', async () => {
    superuser('ALTER DATABASE shop WITH ALLOW_CONNECTIONS false')
    expect(() => client('SELECT 1')).toThrow(/not currently accepting connections/)
    await harness.stop()
    await harness.start()
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
  })

  test('reset swaps in the spare even with a session open on the database; the upkeep drops the old copy and makes a new spare', async () => {
    const target = connectionTarget(harness)
    // The start's own upkeep runs in the background: let it finish, then make sure a spare exists.
    await maintenanceSettled(harness.context.dataDir)
    await maintain(target, harness.context.dataDir)
    const spares = () => superuser("SELECT datname FROM pg_database WHERE datname LIKE 'shop\\_\\_spare\\_%'")
    const spare = spares()
    expect(spare).toMatch(/^shop__spare_[0-9a-f]{12}$/)
    client('DELETE FROM orders')
    const session = await connect({ ...target }, 'shop')
    session.on('error', () => {})
    const outcome = await resetDatabase(target, harness.context.dataDir, project.database, {
      reseed: false,
      log: harness.context.log,
    })
    expect(outcome).toMatchObject({ action: 'cloned', fromSpare: true })
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    await expect(session.query('SELECT 1')).rejects.toThrow()
    await session.end().catch(() => {})
    expect(spares()).toBe('')
    expect(superuser("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_discard\\_%'")).toBe('1')
    const report = await maintain(target, harness.context.dataDir)
    expect(report.sparesMade).toEqual([spare])
    expect(report.dropped).toHaveLength(1)
    expect(spares()).toBe(spare)
    expect(superuser("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_discard\\_%'")).toBe('0')
  })

  test('with no spare ready, reset clones the template itself, moving aside an incoming copy left by a killed reset', async () => {
    const target = connectionTarget(harness)
    await maintenanceSettled(harness.context.dataDir)
    for (const name of superuser("SELECT datname FROM pg_database WHERE datname LIKE 'shop\\_\\_spare\\_%'")
      .split('\n')
      .filter(Boolean))
      superuser(`DROP DATABASE "${name}"`)
    superuser('CREATE DATABASE shop__incoming TEMPLATE template0 ALLOW_CONNECTIONS false')
    client('DELETE FROM orders')
    const outcome = await resetDatabase(target, harness.context.dataDir, project.database, {
      reseed: false,
      log: harness.context.log,
    })
    expect(outcome.action).toBe('cloned')
    expect(outcome.fromSpare).toBeUndefined()
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(superuser("SELECT count(*) FROM pg_database WHERE datname = 'shop__incoming'")).toBe('0')
    await maintain(target, harness.context.dataDir)
    expect(superuser("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_discard\\_%'")).toBe('0')
  })

  test('reset brings back the seeded state from the template, without replaying the seeds', async () => {
    client('DELETE FROM orders WHERE id > 10')
    client('DELETE FROM people WHERE id = 99')
    client("UPDATE people SET name = 'changed' WHERE id = 1")
    const outcome = await resetDatabase(connectionTarget(harness), harness.context.dataDir, project.database, {
      reseed: false,
      log: harness.context.log,
    })
    expect(outcome.action).toBe('cloned')
    expect(client('SELECT count(*) FROM orders')).toBe(String(ORDER_COUNT))
    expect(client('SELECT name FROM people WHERE id = 1')).toBe('Smith, John')
    expect(client('SELECT count(*) FROM people')).toBe('4')
  })

  test('when the seed files change, the next reset runs them again and keeps one template', async () => {
    appendFileSync(path.join(project.root, 'db', '01-schema.sql'), "\nCOMMENT ON TABLE people IS 'reseeded';\n")
    const outcome = await resetDatabase(connectionTarget(harness), harness.context.dataDir, project.database, {
      reseed: false,
      log: harness.context.log,
    })
    expect(outcome.action).toBe('seeded')
    expect(client("SELECT obj_description('people'::regclass)")).toBe('reseeded')
    expect(client("SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_seed\\_%'")).toBe('1')
    expect(existsSync(path.join(harness.context.dataDir, 'initialised.json'))).toBe(true)
  })

  test('two processes dropping the same template copy at once both succeed (the upkeep and snapshot delete race for it)', async () => {
    const target = connectionTarget(harness)
    const [first, second] = [await connect(target, 'postgres'), await connect(target, 'postgres')]
    try {
      for (let round = 0; round < 12; round++) {
        const name = `shop__snap_race${round}`
        superuser(`CREATE DATABASE ${name} TEMPLATE shop STRATEGY FILE_COPY IS_TEMPLATE true ALLOW_CONNECTIONS false`)
        await Promise.all([dropDatabase(first, name), dropDatabase(second, name)])
        expect(superuser(`SELECT count(*) FROM pg_database WHERE datname = '${name}'`)).toBe('0')
      }
    } finally {
      await Promise.all([first.end(), second.end()])
    }
  })
})
