/**
 * Committed boxes end to end: commit a running PostgreSQL service, export it, import it into an
 * empty machine-wide folder (another DEVENV_HOME), boot a new project from it; and a hostile
 * archive that tries to write outside the store.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgProject } from './project.js'
import { tarGz, type RawEntry } from './tar.js'

let origin: PgProject
let fresh: PgProject
let archive: string

beforeAll(async () => {
  origin = new PgProject('snapshots-pg')
  fresh = new PgProject('snapshots-from-box')
  await origin.ok(['up', 'db'], 120_000)
}, 180_000)
afterAll(async () => {
  await Promise.all([origin?.cleanup(), fresh?.cleanup()])
})

describe('commit, export, import, boot', () => {
  it('boots a new project from a committed box, with the committed rows and without running its seeds again', async () => {
    await origin.sql('db', 'shop', "INSERT INTO markers VALUES ('committed')")
    // A snapshot is kept inside the cluster as a template database; it is not the service's state, and the box leaves it out.
    const snapshot = JSON.parse(await origin.ok(['snapshot', 'save', 'db', 'kept-out', '--json'])).result.snapshots[0]
    const copyOid = await origin.sql(
      'db',
      'shop',
      `SELECT oid FROM pg_database WHERE datname = '${snapshot.copies[0].copy}'`,
    )
    expect(copyOid).toMatch(/^\d+$/)
    await origin.ok(['commit', 'db', 'shop-db:v1'])
    const committed = JSON.parse(readFileSync(path.join(origin.home, 'boxes', 'shop-db', 'v1', 'box.json'), 'utf8'))
    expect(
      committed.entries.filter((entry: { path: string }) => entry.path.startsWith(`pgdata/base/${copyOid}`)),
    ).toEqual([])
    expect(committed.entries.map((entry: { path: string }) => entry.path)).not.toContain('snapshot-copies.json')
    // The service is back after the commit.
    expect(await origin.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe('20000')
    archive = path.join(path.dirname(origin.root), 'shop-db.box.tgz')
    await origin.ok(['box', 'export', 'shop-db:v1', '-o', archive])

    expect(existsSync(path.join(fresh.home, 'boxes'))).toBe(false)
    const imported = JSON.parse(await fresh.ok(['box', 'import', archive, '--json'])).result
    expect(imported.box).toMatchObject({ name: 'shop-db', tag: 'v1', kind: 'postgres' })
    const listed = JSON.parse(await fresh.ok(['box', 'list', '--json'])).result.boxes
    expect(listed.map((box: { name: string; tag: string }) => `${box.name}:${box.tag}`)).toEqual(['shop-db:v1'])

    await fresh.ok(['up'], 120_000)
    expect(await fresh.sql('db', 'shop', 'SELECT count(*), sum(id) FROM items')).toBe('20000|200010000')
    expect(await fresh.sql('db', 'shop', "SELECT string_agg(label, ',') FROM markers")).toBe('committed')
    expect(await fresh.sql('db', 'shop', 'SELECT count(*) FROM seed_runs')).toBe('1')
    // The catalog row of the copy left out is dropped by the new cluster's upkeep.
    await expect
      .poll(() => fresh.sql('db', 'shop', "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_snap\\_%'"), {
        timeout: 15_000,
      })
      .toBe('0')
    expect(
      await fresh.sql('db', 'shop', "SELECT count(*) FROM pg_database WHERE datname LIKE 'shop\\_\\_seed\\_%'"),
    ).toBe('1')
    const status = JSON.parse(await fresh.ok(['status', '--json'])).result
    expect(status.services[0]).toMatchObject({ name: 'db', box: 'shop-db:v1', state: 'running' })
    // Its own state from now on: the box in the store is untouched by what the project writes.
    await fresh.sql('db', 'shop', 'DELETE FROM items')
    await fresh.ok(['down', '--no-hosts'])
    await fresh.ok(['up'], 120_000)
    expect(await fresh.sql('db', 'shop', 'SELECT count(*) FROM items')).toBe('0')
  })

  it('refuses an archive with a ../ entry and writes nothing, inside the store or outside it', async () => {
    const boxRoot = path.join(fresh.home, 'boxes', 'shop-db', 'v1')
    const record = JSON.parse(readFileSync(path.join(boxRoot, 'box.json'), 'utf8'))
    const legit: RawEntry[] = [{ name: 'data', type: 'dir' }]
    for (const entry of record.entries) {
      const name = `data/${entry.path}`
      if (entry.type === 'dir') legit.push({ name, type: 'dir', mode: entry.mode })
      else if (entry.type === 'symlink') legit.push({ name, type: 'symlink', linkname: entry.target })
      else
        legit.push({ name, type: 'file', mode: entry.mode, body: readFileSync(path.join(boxRoot, 'data', entry.path)) })
    }
    const manifest: RawEntry = {
      name: 'devenv-box.json',
      type: 'file',
      body: Buffer.from(JSON.stringify({ format: 'devenv-box-archive/1', box: { ...record, name: 'evil-db' } })),
    }
    const work = path.join(path.dirname(fresh.root), 'evil', 'a', 'b')
    mkdirSync(work, { recursive: true })
    // The hostile entry comes last, after every legitimate one: an importer that wrote as it
    // read would have written the whole box before meeting it.
    for (const hostile of [
      '../escaped.txt',
      'data/../../escaped.txt',
      '../../../../../../../../tmp/escaped-devenv-e2e.txt',
    ]) {
      const file = path.join(work, 'evil.box.tgz')
      writeFileSync(file, tarGz([manifest, ...legit, { name: hostile, type: 'file', body: Buffer.from('gotcha\n') }]))
      const result = await fresh.run(['box', 'import', file], { cwd: work })
      expect(result.exitCode, hostile).toBe(1)
      expect(result.stderr).toMatch(/unsafe entry path/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const escaped = (folder: string): string[] =>
      readdirSync(folder, { recursive: true })
        .map(String)
        .filter((name) => name.includes('escaped'))
    expect(escaped(path.dirname(fresh.root))).toEqual([])
    expect(existsSync('/tmp/escaped-devenv-e2e.txt')).toBe(false)
    expect(readdirSync(path.join(fresh.home, 'boxes')).sort()).toEqual(['shop-db'])
    expect(JSON.parse(await fresh.ok(['box', 'list', '--json'])).result.boxes).toHaveLength(1)
  })
})
