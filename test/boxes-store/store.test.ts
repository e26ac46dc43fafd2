import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  commitBox,
  exportBox,
  importBox,
  listBoxes,
  removeBox,
  resolveCommittedBox,
  seedServiceData,
  boxDir,
} from '../../src/boxes/store/index.js'
import { parseEnvfile } from '../../src/envfile/index.js'
import type { ServiceSpec } from '../../src/envfile/model.js'
import { cleanup, describeFolder, makeDataFolder, tempDir } from '../snapshots/helpers.js'

let work: string
const idle = async () => async () => {}

function postgresService(root: string): ServiceSpec {
  const spec = parseEnvfile(
    path.join(root, 'devenv.yaml'),
    'name: shop\nservices:\n  db:\n    box: postgres\n    databases:\n      - { name: shop, user: shop, password: secret }\n',
    { variables: {} },
  )
  return spec.services.db!
}

beforeEach(() => {
  work = tempDir('devenv-boxes-')
  process.env.DEVENV_HOME = path.join(work, 'home-a')
})
afterEach(() => {
  delete process.env.DEVENV_HOME
  cleanup(work)
})

describe('the box store', () => {
  it('commit → export → import into an empty DEVENV_HOME → identical, then seeds a new service', async () => {
    const data = path.join(work, 'project', '.devenv', 'services', 'db', 'data')
    makeDataFolder(data, 'committed-rows')
    const service = postgresService(path.join(work, 'project'))
    const committed = await commitBox({
      dataDir: data,
      service,
      ref: { name: 'shop-db', tag: 'v1' },
      baseVersion: '17',
      quiesce: idle,
    })
    expect(committed).toMatchObject({
      name: 'shop-db',
      tag: 'v1',
      kind: 'postgres',
      baseBox: 'postgres',
      baseVersion: '17',
    })
    expect(committed.recipe.postgres?.databases).toEqual([{ name: 'shop', user: 'shop', password: 'secret' }])
    expect(resolveCommittedBox({ name: 'shop-db', tag: 'v1' })).toBe('postgres')
    await expect(
      commitBox({ dataDir: data, service, ref: { name: 'shop-db', tag: 'v1' }, baseVersion: '17', quiesce: idle }),
    ).rejects.toMatchObject({ code: 'EXISTS' })

    for (const file of ['shop.box.tar', 'shop.box.tgz']) {
      process.env.DEVENV_HOME = path.join(work, 'home-a')
      const exported = await exportBox({ name: 'shop-db', tag: 'v1' }, path.join(work, file))
      expect(exported.gzip).toBe(file.endsWith('.tgz'))
      // it holds the databases' passwords and the superuser's: the owner's only
      expect((statSync(exported.file).mode & 0o777).toString(8)).toBe('600')
      process.env.DEVENV_HOME = path.join(work, `home-${file}`)
      expect(listBoxes()).toEqual([])
      expect(resolveCommittedBox({ name: 'shop-db', tag: 'v1' })).toBeUndefined()
      const imported = await importBox(path.join(work, file))
      expect(imported.box.checksum).toBe(committed.checksum)
      expect(describeFolder(path.join(boxDir({ name: 'shop-db', tag: 'v1' }), 'data'))).toEqual(describeFolder(data))
      expect(listBoxes().map((box) => `${box.name}:${box.tag}`)).toEqual(['shop-db:v1'])
      await expect(importBox(path.join(work, file))).rejects.toMatchObject({ code: 'EXISTS' })
    }

    // A new project whose envfile says box: shop-db:v1 resolves it and boots from its state.
    const spec = parseEnvfile(path.join(work, 'other', 'devenv.yaml'), 'services:\n  db:\n    box: shop-db:v1\n', {
      variables: {},
      resolveBox: resolveCommittedBox,
    })
    expect(spec.services.db!.kind).toBe('postgres')
    const newData = path.join(work, 'other', '.devenv', 'services', 'db', 'data')
    expect(await seedServiceData(spec.services.db!.box, newData)).toBe(true)
    expect(describeFolder(newData)).toEqual(describeFolder(data))
    expect(readFileSync(path.join(newData, 'marker.txt'), 'utf8')).toBe('committed-rows')
    expect(await seedServiceData(spec.services.db!.box, newData)).toBe(false)
    expect(readdirSync(path.dirname(newData))).toEqual(['data'])

    await removeBox({ name: 'shop-db', tag: 'v1' })
    expect(listBoxes()).toEqual([])
    expect(existsSync(path.join(process.env.DEVENV_HOME!, 'boxes', 'shop-db'))).toBe(false)
  })

  it('refuses an export whose data changed since the commit, and writes no file', async () => {
    const data = path.join(work, 'd')
    makeDataFolder(data, 'x')
    await commitBox({
      dataDir: data,
      service: postgresService(work),
      ref: { name: 'b', tag: 'latest' },
      baseVersion: '17',
      quiesce: idle,
    })
    const stored = path.join(boxDir({ name: 'b', tag: 'latest' }), 'data', 'marker.txt')
    const { writeFileSync } = await import('node:fs')
    writeFileSync(stored, 'tampered')
    await expect(exportBox({ name: 'b', tag: 'latest' }, path.join(work, 'out.tar'))).rejects.toThrow(
      /changed since it was committed/,
    )
    expect(readdirSync(work).filter((name) => name.includes('out.tar'))).toEqual([])
  })
})
