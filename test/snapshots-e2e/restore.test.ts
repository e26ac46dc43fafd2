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

beforeAll(async () => {
  project = new PgProject('snapshots-pg')
  await project.ok(['up'], 120_000)
}, 180_000)
afterAll(async () => {
  await project?.cleanup()
})

/** The marker says which state the database holds: present before the restore, absent in the snapshot. */
async function markers(): Promise<string> {
  return project.sql('db', 'shop', 'SELECT coalesce(string_agg(label, \',\' ORDER BY label), \'\') FROM markers')
}

describe('snapshot and restore, through the runtime', () => {
  it('restores a dropped table with its rows, and the service is running after', async () => {
    expect(await project.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe(ROWS)
    const saved = JSON.parse(await project.ok(['snapshot', 'save', 'db', 'before', '--json']))
    expect(saved.snapshots[0]).toMatchObject({ name: 'before', service: 'db', box: 'postgres', boxVersion: '17' })
    await project.sql('db', 'shop', 'DROP TABLE items')
    await expect(project.sql('db', 'shop', 'SELECT count(*) FROM items')).rejects.toThrow(/does not exist/)
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'before', '--json']))
    expect(restored.restored[0]).toMatchObject({ service: 'db', snapshot: 'before', checksum: saved.snapshots[0].checksum })
    expect(await project.sql('db', 'shop', 'SELECT count(*), sum(id) FROM items')).toBe(`${ROWS}|200010000`)
    const status = await project.status()
    expect(status.services.find((entry) => entry.name === 'db')).toMatchObject({ state: 'running', health: 'healthy' })
    expect(project.leftovers('db')).toEqual([])
  })

  it('saves and restores every stateful service as one set with --all', async () => {
    await project.sql('audit', 'audit', 'CREATE TABLE IF NOT EXISTS events (id serial PRIMARY KEY, what text)')
    await project.sql('audit', 'audit', "INSERT INTO events (what) VALUES ('kept')")
    await project.ok(['snapshot', 'save', '--all', 'both'])
    const listed = JSON.parse(await project.ok(['snapshot', 'list', '--json'])).snapshots
    expect(listed.filter((entry: { name: string }) => entry.name === 'both').map((entry: { service: string }) => entry.service).sort()).toEqual(['audit', 'db'])
    await project.sql('audit', 'audit', "INSERT INTO events (what) VALUES ('lost')")
    await project.sql('db', 'shop', 'DELETE FROM items WHERE id > 100')
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', '--all', 'both', '--json'])).restored
    expect(restored.map((entry: { service: string }) => entry.service).sort()).toEqual(['audit', 'db'])
    expect(await project.sql('audit', 'audit', 'SELECT string_agg(what, \',\' ORDER BY id) FROM events')).toBe('kept')
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

/** `devenv snapshot restore db before`, killed by its own crash point or by us after `killAfterMs`. */
async function killedRestore(options: { crashAt?: string; killAfterMs?: number }): Promise<number | null> {
  const child = spawn(path.join(REPO, 'bin', 'devenv'), ['snapshot', 'restore', 'db', 'before'], {
    cwd: project.root,
    env: { ...process.env, ...project.env, ...(options.crashAt ? { DEVENV_SNAPSHOT_CRASH_AT: options.crashAt } : {}) } as NodeJS.ProcessEnv,
    stdio: 'ignore',
  })
  const timer = options.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs)
  const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode, signal) => resolve(signal === 'SIGKILL' ? null : exitCode)))
  clearTimeout(timer)
  return code
}

/** After the kill: `devenv up` works, the data is wholly old (marker) or wholly new (no marker), no leftovers. */
async function checkWhole(): Promise<'old' | 'new'> {
  await project.ok(['up'], 120_000)
  // A kill before the service was stopped leaves it running on the old data, and the debris for its next start.
  if (project.leftovers('db').length) await project.ok(['restart', 'db'], 120_000)
  expect(project.leftovers('db')).toEqual([])
  expect(await project.sql('db', 'shop', 'SELECT count(*), sum(id) FROM items')).toBe(`${ROWS}|200010000`)
  const found = await markers()
  expect(['between', '']).toContain(found)
  return found === 'between' ? 'old' : 'new'
}

describe('a restore killed with SIGKILL', () => {
  // Killed before the journal says "swapping", the old state stays; after it, the restore is finished.
  const points: Array<[string, 'old' | 'new']> = [
    ['restore:journal-written', 'old'],
    ['restore:copied', 'old'],
    ['restore:before-commit', 'old'],
    ['restore:committed', 'new'],
    ['restore:old-moved', 'new'],
    ['restore:new-in-place', 'new'],
    ['restore:old-removed', 'new'],
  ]
  for (const [point, expected] of points) {
    it(`at ${point}: the ${expected} state, whole`, async () => {
      await project.sql('db', 'shop', "INSERT INTO markers VALUES ('between') ON CONFLICT DO NOTHING")
      expect(await killedRestore({ crashAt: point })).toBeNull()
      expect(await checkWhole()).toBe(expected)
    })
  }

  it('at random moments: always one state or the other, whole', async () => {
    const seen: string[] = []
    for (let round = 0; round < 3; round++) {
      await project.sql('db', 'shop', "INSERT INTO markers VALUES ('between') ON CONFLICT DO NOTHING")
      const code = await killedRestore({ killAfterMs: 300 + Math.floor(Math.random() * 2200) })
      seen.push(`${code === null ? 'killed' : `exit ${code}`}: ${await checkWhole()}`)
    }
    console.log(`random kills: ${seen.join('; ')}`)
  }, 240_000)
})
