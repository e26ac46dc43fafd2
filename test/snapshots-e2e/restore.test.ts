/**
 * Snapshots through the real runtime and real PostgreSQL: save, break, restore; sets; a restore
 * killed with SIGKILL at every step and at random moments, after which `devenv up` must find
 * the data wholly old or wholly new.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from '../runtime/helpers.js'
import { PgProject } from './project.js'

const ROWS = '20000'
let project: PgProject

// A ready spare for the last snapshot saved or restored only, in every devenv process this file
// starts (the supervisor and the upkeep inherit it): older snapshots are cloned and verified.
// test/snapshots-e2e/spares.test.ts runs with the default budget.
process.env.DEVENV_SNAPSHOT_SPARES_MIB = '0'

beforeAll(async () => {
  project = new PgProject('snapshots-pg')
  await project.ok(['up'], 120_000)
}, 180_000)
afterAll(async () => {
  await project?.cleanup()
})

/** The marker says which state the database holds: present before the restore, absent in the snapshot. */
async function markers(): Promise<string> {
  return project.sql('db', 'shop', "SELECT coalesce(string_agg(label, ',' ORDER BY label), '') FROM markers")
}

describe('snapshot and restore, through the runtime', () => {
  it('restores a dropped table with its rows, and the service is running after', async () => {
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
    const saved = JSON.parse(await project.ok(['snapshot', 'save', 'db', 'before', '--json'])).result
    expect(saved.snapshots[0]).toMatchObject({ name: 'before', service: 'db', box: 'postgres', boxVersion: '17' })
    await project.sql('db', 'shop', 'DROP TABLE items')
    await expect(project.sql('db', 'shop', 'SELECT count(*) FROM items')).rejects.toThrow(/does not exist/)
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'before', '--json'])).result
    expect(restored.restored[0]).toMatchObject({
      service: 'db',
      snapshot: 'before',
      checksum: saved.snapshots[0].checksum,
    })
    expect(await project.sql('db', 'shop', 'SELECT count(*), sum(id) FROM items')).toBe(`${ROWS}|200010000`)
    const status = await project.status()
    expect(status.services.find((entry) => entry.name === 'db')).toMatchObject({ state: 'running', health: 'healthy' })
    expect(project.leftovers('db')).toEqual([])
  })

  it('keeps a snapshot valid across restarts of the server (which rewrites caches in every database)', async () => {
    await project.ok(['snapshot', 'save', 'db', 'across-restart'])
    await project.ok(['restart', 'db'], 120_000)
    await project.sql('db', 'shop', 'DELETE FROM items WHERE id > 10')
    // A second snapshot takes the ready copy, so the first is cloned and verified file by file.
    await project.ok(['snapshot', 'save', 'db', 'after-restart'])
    const first = JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots.find(
      (info: { name: string }) => info.name === 'across-restart',
    )
    const id = first.copies[0].copy.split('__snap_')[1]
    await expect
      .poll(
        () => project.sql('db', 'shop', `SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_\\_spare\\_${id}'`),
        { timeout: 15_000 },
      )
      .toBe('0')
    await project.ok(['restart', 'db'], 120_000)
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'across-restart', '--json'])).result
      .restored[0]
    expect(restored).toMatchObject({ snapshot: 'across-restart', fromSpare: false })
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
    await project.ok(['snapshot', 'delete', 'db', 'across-restart'])
    await project.ok(['snapshot', 'delete', 'db', 'after-restart'])
  })

  it('saves and restores every stateful service as one set with --all', async () => {
    await project.sql('audit', 'audit', 'CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, what text)')
    await project.sql('audit', 'audit', "INSERT INTO events (what) VALUES ('kept')")
    await project.ok(['snapshot', 'save', '--all', 'both'])
    const listed = JSON.parse(await project.ok(['snapshot', 'list', '--json'])).result.snapshots
    expect(
      listed
        .filter((entry: { name: string }) => entry.name === 'both')
        .map((entry: { service: string }) => entry.service)
        .sort(),
    ).toEqual(['audit', 'db'])
    await project.sql('audit', 'audit', "INSERT INTO events (what) VALUES ('lost')")
    await project.sql('db', 'shop', 'DELETE FROM items WHERE id > 100')
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', '--all', 'both', '--json'])).result.restored
    expect(restored.map((entry: { service: string }) => entry.service).sort()).toEqual(['audit', 'db'])
    expect(await project.sql('audit', 'audit', "SELECT string_agg(what, ',' ORDER BY id) FROM events")).toBe('kept')
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
  })

  it('refuses a snapshot of another box version unless --force', async () => {
    await project.ok(['snapshot', 'save', 'db', 'pg16'])
    const manifestFile = path.join(project.root, '.devenv', 'snapshots', 'db', 'pg16', 'manifest.json')
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'))
    writeFileSync(manifestFile, JSON.stringify({ ...manifest, boxVersion: '16' }))
    const refused = await project.run(['snapshot', 'restore', 'db', 'pg16'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toMatch(/taken from box postgres 16, but db now runs postgres 17/)
    expect(refused.stderr).toMatch(/--force/)
    expect(project.leftovers('db')).toEqual([])
    await project.ok(['snapshot', 'restore', 'db', 'pg16', '--force'])
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
  })
})

/** `devenv snapshot ACTION db NAME`, killed by its own crash point or by us after `killAfterMs`: null when killed, else the exit code. */
async function killed(
  action: 'restore' | 'save',
  name: string,
  options: { crashAt?: string; killAfterMs?: number },
): Promise<number | null> {
  const child = spawn(path.join(REPO, 'bin', 'devenv'), ['snapshot', action, 'db', name], {
    cwd: project.root,
    env: {
      ...process.env,
      ...project.env,
      ...(options.crashAt ? { DEVENV_SNAPSHOT_CRASH_AT: options.crashAt } : {}),
    } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const timer =
    options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs)
  const code = await new Promise<number | null>((resolve) =>
    child.once('close', (exitCode, signal) => resolve(signal === 'SIGKILL' ? null : exitCode)),
  )
  clearTimeout(timer)
  // A crash point that was never reached means the operation failed before it: show why.
  if (options.crashAt && code !== null)
    throw new Error(`devenv snapshot ${action} exited ${code} before ${options.crashAt}: ${stderr}`)
  return code
}

/** Copies of `shop` in the cluster that no snapshot names, and replacements never swapped in. */
async function strayDatabases(): Promise<string[]> {
  const names = (
    await project.sql(
      'db',
      'shop',
      "SELECT coalesce(string_agg(datname, ',' ORDER BY datname), '') FROM pg_database WHERE datname LIKE 'shop\\_\\_%'",
    )
  )
    .split(',')
    .filter(Boolean)
  const named = new Set<string>()
  for (const info of JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots)
    for (const copy of info.copies ?? []) named.add(copy.copy)
  return names
    .filter((name) => name.includes('__snap_') && !named.has(name))
    .concat(names.filter((name) => name.includes('__incoming') || name.includes('__prep_')))
}

/**
 * After the kill: `devenv up` opens a database the kill left closed to connections (for the
 * moment of a copy or swap), and the data is wholly old (marker) or wholly new (no marker); the
 * next snapshot operation drops the copies of a save that never published.
 */
async function checkWhole(): Promise<'old' | 'new'> {
  await project.ok(['up'], 120_000)
  expect(await project.sql('db', 'shop', 'SELECT count(*), sum(id) FROM items')).toBe(`${ROWS}|200010000`)
  const found = await markers()
  expect(['between', '']).toContain(found)
  await project.ok(['snapshot', 'save', 'db', 'probe'])
  await project.ok(['snapshot', 'delete', 'db', 'probe'])
  expect(project.leftovers('db')).toEqual([])
  await expect.poll(strayDatabases, { timeout: 15_000 }).toEqual([])
  return found === 'between' ? 'old' : 'new'
}

describe('a restore killed with SIGKILL', () => {
  // Until the swap's transaction commits the old state stays; after it, the restored one.
  const points: Array<[string, 'old' | 'new']> = [
    ['restore:journal-written', 'old'],
    ['restore:prepared', 'old'],
    ['restore:swapped', 'new'],
  ]
  for (const [point, expected] of points) {
    it(`at ${point}: the ${expected} state, whole`, async () => {
      await project.sql('db', 'shop', "INSERT INTO markers VALUES ('between') ON CONFLICT DO NOTHING")
      expect(await killed('restore', 'before', { crashAt: point })).toBeNull()
      expect(await checkWhole()).toBe(expected)
    })
  }

  it('at random moments: always one state or the other, whole', async () => {
    const seen: string[] = []
    for (let round = 0; round < 3; round++) {
      await project.sql('db', 'shop', "INSERT INTO markers VALUES ('between') ON CONFLICT DO NOTHING")
      const code = await killed('restore', 'before', { killAfterMs: 200 + Math.floor(Math.random() * 500) })
      seen.push(`${code === null ? 'killed' : `exit ${code}`}: ${await checkWhole()}`)
    }
    console.log(`random kills: ${seen.join('; ')}`)
  }, 240_000)
})

describe('a save killed with SIGKILL', () => {
  for (const point of ['save:registered', 'save:closed', 'save:copied', 'save:published']) {
    it(`at ${point}: the database is untouched, and a half-made copy is dropped`, async () => {
      await project.sql('db', 'shop', "INSERT INTO markers VALUES ('between') ON CONFLICT DO NOTHING")
      expect(await killed('save', 'killed', { crashAt: point })).toBeNull()
      expect(await checkWhole()).toBe('old')
      const published = JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots.some(
        (info: { name: string }) => info.name === 'killed',
      )
      // Published is the last step: only then does the snapshot exist, whole.
      expect(published).toBe(point === 'save:published')
      if (published) await project.ok(['snapshot', 'delete', 'db', 'killed'])
    })
  }
})

describe('Ctrl-C', () => {
  it('during a save, while the database is closed for the copy: the save stops, and the database takes connections at once', async () => {
    const child = spawn(path.join(REPO, 'bin', 'devenv'), ['snapshot', 'save', 'db', 'interrupted'], {
      cwd: project.root,
      env: { ...process.env, ...project.env, DEVENV_SNAPSHOT_INTERRUPT_AT: 'save:closed' } as NodeJS.ProcessEnv,
      stdio: 'ignore',
    })
    const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
      child.once('close', (_code, received) => resolve(received)),
    )
    expect(signal).toBe('SIGINT')
    // No devenv command in between: the save opened the database again before it let the signal end it.
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
    expect(
      JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots.map(
        (info: { name: string }) => info.name,
      ),
    ).not.toContain('interrupted')
    await project.ok(['snapshot', 'save', 'db', 'after-interrupt'])
    await project.ok(['snapshot', 'delete', 'db', 'after-interrupt'])
    await expect.poll(strayDatabases, { timeout: 15_000 }).toEqual([])
  })
})

describe('restoring a snapshot that is not the last one', () => {
  it('clones and verifies it (no ready copy), and refuses a copy that was changed', async () => {
    await project.sql('db', 'shop', 'DELETE FROM markers')
    await project.ok(['snapshot', 'save', 'db', 'older'])
    await project.sql('db', 'shop', "INSERT INTO markers VALUES ('newer')")
    await project.ok(['snapshot', 'save', 'db', 'newer'])
    const older = JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots.find(
      (info: { name: string }) => info.name === 'older',
    )
    // The upkeep keeps a ready copy of the last snapshot saved or restored only: wait for the older one's to go.
    await expect
      .poll(
        () =>
          project.sql(
            'db',
            'shop',
            `SELECT count(*) FROM pg_database WHERE datname LIKE '%${older.copies[0].copy.split('__snap_')[1]}' AND datname NOT LIKE '%\\_\\_snap\\_%'`,
          ),
        { timeout: 15_000 },
      )
      .toBe('0')
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'older', '--json'])).result.restored[0]
    expect(restored.fromSpare).toBe(false)
    expect(await markers()).toBe('')
    const again = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'newer', '--json'])).result.restored[0]
    expect(await markers()).toBe('newer')
    expect(again.checksum).not.toBe(restored.checksum)

    // One byte changed in the older copy's files: its clone no longer matches the recorded checksum.
    await expect
      .poll(
        () =>
          project.sql(
            'db',
            'shop',
            `SELECT count(*) FROM pg_database WHERE datname LIKE '%__spare_${older.copies[0].copy.split('__snap_')[1]}'`,
          ),
        { timeout: 15_000 },
      )
      .toBe('0')
    const oid = await project.sql('db', 'shop', `SELECT oid FROM pg_database WHERE datname = '${older.copies[0].copy}'`)
    const versionFile = path.join(project.serviceDir('db'), 'data', 'pgdata', 'base', oid, 'PG_VERSION')
    writeFileSync(versionFile, `${readFileSync(versionFile, 'utf8').trim()} \n`)
    const refused = await project.run(['snapshot', 'restore', 'db', 'older'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toMatch(/does not match the snapshot's checksum/)
    expect(await markers()).toBe('newer')
    await project.ok(['snapshot', 'delete', 'db', 'older'])
    await project.ok(['snapshot', 'delete', 'db', 'newer'])
  })
})
