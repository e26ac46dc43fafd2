/**
 * With the default spare budget, every recent snapshot of a small database has a ready, verified
 * spare, so restoring an older one is a rename too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PgProject } from './project.js'

let project: PgProject

beforeAll(async () => {
  delete process.env.DEVENV_SNAPSHOT_SPARES_MIB
  project = new PgProject('snapshots-pg')
  await project.ok(['up', 'db'], 120_000)
}, 180_000)
afterAll(async () => {
  await project?.cleanup()
})

async function spares(id: string): Promise<string> {
  return project.sql('db', 'shop', `SELECT count(*) FROM pg_database WHERE datname LIKE '%\\_\\_spare\\_${id}'`)
}

describe('spares of older snapshots', () => {
  it('restoring a snapshot that is not the last one is a rename while the spares fit in the budget', async () => {
    await project.ok(['snapshot', 'save', 'db', 'first-of-two'])
    await project.sql('db', 'shop', "INSERT INTO markers VALUES ('second')")
    await project.ok(['snapshot', 'save', 'db', 'second-of-two'])
    const listed = JSON.parse(await project.ok(['snapshot', 'list', 'db', '--json'])).result.snapshots
    const idOf = (name: string): string =>
      listed.find((info: { name: string }) => info.name === name).copies[0].copy.split('__snap_')[1]
    await expect.poll(() => spares(idOf('first-of-two')), { timeout: 15_000 }).toBe('1')
    await expect.poll(() => spares(idOf('second-of-two')), { timeout: 15_000 }).toBe('1')
    const restored = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'first-of-two', '--json'])).result
      .restored[0]
    expect(restored.fromSpare).toBe(true)
    expect(await project.sql('db', 'shop', "SELECT count(*) FROM markers WHERE label = 'second'")).toBe('0')
    // The spare taken is made again for the next restore, and the other one kept.
    await expect.poll(() => spares(idOf('first-of-two')), { timeout: 15_000 }).toBe('1')
    expect(await spares(idOf('second-of-two'))).toBe('1')
    const back = JSON.parse(await project.ok(['snapshot', 'restore', 'db', 'second-of-two', '--json'])).result
      .restored[0]
    expect(back.fromSpare).toBe(true)
    expect(await project.sql('db', 'shop', "SELECT count(*) FROM markers WHERE label = 'second'")).toBe('1')
  })
})
