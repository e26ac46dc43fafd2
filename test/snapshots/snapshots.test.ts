import { appendFileSync, existsSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ProjectPaths } from '../../src/state/paths.js'
import { writeProjectState } from '../../src/state/project-state.js'
import type { EnvSpec } from '../../src/envfile/model.js'
import { runtimeFor } from '../../src/engine/index.js'
import {
  deleteSnapshot,
  listSnapshots,
  quiesceService,
  recoverServiceData,
  restoreSnapshot,
  restoreSnapshotSet,
  saveSnapshot,
  saveSnapshotSet,
  type Quiesce,
} from '../../src/snapshots/index.js'
import { cleanup, describeFolder, makeDataFolder, tempDir } from './helpers.js'

let root: string
let paths: ProjectPaths
const idle: Quiesce = async () => async () => {}
const base = { box: 'postgres', kind: 'postgres', boxVersion: '17' }

beforeEach(() => {
  root = tempDir()
  paths = new ProjectPaths(root)
  makeDataFolder(paths.serviceData('db'), 'original')
})
afterEach(() => cleanup(root))

describe('save, list, restore, delete', () => {
  it('restores byte-identical content, modes and links', async () => {
    const before = describeFolder(paths.serviceData('db'))
    const manifest = await saveSnapshot({ paths, service: 'db', ...base, name: 'first', quiesce: idle })
    expect(manifest.checksum).toMatch(/^sha256:[0-9a-f]{64}$/)
    expect(manifest.files).toBe(5)
    expect(describeFolder(path.join(paths.snapshots, 'db', 'first', 'data'))).toEqual(before)

    cleanup(paths.serviceData('db'))
    makeDataFolder(paths.serviceData('db'), 'changed')
    writeFileSync(path.join(paths.serviceData('db'), 'extra'), 'not in the snapshot')
    expect(describeFolder(paths.serviceData('db'))).not.toEqual(before)

    const result = await restoreSnapshot({
      paths,
      service: 'db',
      name: 'first',
      box: 'postgres',
      boxVersion: '17',
      quiesce: idle,
    })
    expect(result.checksum).toBe(manifest.checksum)
    expect(describeFolder(paths.serviceData('db'))).toEqual(before)
    expect(readdirSync(paths.serviceDir('db'))).toEqual(['data'])
  })

  it('hard-links the files of a box that never rewrites one, and the snapshot stays as it was when the live files are replaced', async () => {
    const data = paths.serviceData('db')
    const before = describeFolder(data)
    await saveSnapshot({ paths, service: 'db', ...base, name: 'linked', quiesce: idle, linkFiles: true })
    const saved = path.join(paths.snapshots, 'db', 'linked', 'data', 'pgdata', 'base', '16384', '1259')
    expect(statSync(saved).ino).toBe(statSync(path.join(data, 'pgdata', 'base', '16384', '1259')).ino)
    expect(statSync(saved).nlink).toBe(2)
    // What such a box does: write aside and rename over, or remove.
    writeFileSync(path.join(data, 'pgdata', 'base', '16384', '1259.tmp'), 'replaced')
    renameSync(
      path.join(data, 'pgdata', 'base', '16384', '1259.tmp'),
      path.join(data, 'pgdata', 'base', '16384', '1259'),
    )
    rmSync(path.join(data, 'marker.txt'))
    await restoreSnapshot({
      paths,
      service: 'db',
      name: 'linked',
      box: 'postgres',
      boxVersion: '17',
      quiesce: idle,
      linkFiles: true,
    })
    expect(describeFolder(data)).toEqual(before)
    expect(statSync(path.join(data, 'pgdata', 'base', '16384', '1259')).ino).toBe(statSync(saved).ino)
  })

  it('generates a date-time name, lists and deletes', async () => {
    const generated = await saveSnapshot({ paths, service: 'db', ...base, quiesce: idle })
    expect(generated.name).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z$/)
    await saveSnapshot({ paths, service: 'db', ...base, name: 'second', quiesce: idle })
    expect(listSnapshots(paths, 'db').map((info) => info.name)).toEqual([generated.name, 'second'])
    await expect(saveSnapshot({ paths, service: 'db', ...base, name: 'second', quiesce: idle })).rejects.toMatchObject({
      code: 'EXISTS',
    })
    await deleteSnapshot(paths, 'db', 'second')
    expect(listSnapshots(paths).map((info) => info.name)).toEqual([generated.name])
    expect(readdirSync(path.join(paths.snapshots, 'db'))).toEqual([generated.name])
  })

  it('refuses names that could leave the folder', async () => {
    for (const name of ['../escape', '..', '.hidden', 'a/b', '', 'x'.repeat(101)]) {
      await expect(saveSnapshot({ paths, service: 'db', ...base, name, quiesce: idle })).rejects.toMatchObject({
        code: 'USAGE',
      })
    }
    await expect(
      restoreSnapshot({ paths, service: '../db', name: 'x', box: 'postgres', boxVersion: '17', quiesce: idle }),
    ).rejects.toMatchObject({ code: 'USAGE' })
    expect(existsSync(paths.snapshots)).toBe(false)
  })

  it('refuses another box or version unless forced', async () => {
    await saveSnapshot({ paths, service: 'db', ...base, name: 'pg17', quiesce: idle })
    await expect(
      restoreSnapshot({ paths, service: 'db', name: 'pg17', box: 'postgres', boxVersion: '16', quiesce: idle }),
    ).rejects.toThrow(/box postgres 17.*postgres 16/)
    await expect(
      restoreSnapshot({ paths, service: 'db', name: 'pg17', box: 'shop-db:v1', boxVersion: '17', quiesce: idle }),
    ).rejects.toMatchObject({ code: 'SNAPSHOT' })
    await restoreSnapshot({
      paths,
      service: 'db',
      name: 'pg17',
      box: 'postgres',
      boxVersion: '16',
      force: true,
      quiesce: idle,
    })
  })

  it('refuses a damaged snapshot and leaves the current state alone', async () => {
    await saveSnapshot({ paths, service: 'db', ...base, name: 'good', quiesce: idle })
    appendFileSync(path.join(paths.snapshots, 'db', 'good', 'data', 'marker.txt'), 'tampered')
    writeFileSync(path.join(paths.serviceData('db'), 'marker.txt'), 'current')
    const current = describeFolder(paths.serviceData('db'))
    await expect(
      restoreSnapshot({ paths, service: 'db', name: 'good', box: 'postgres', boxVersion: '17', quiesce: idle }),
    ).rejects.toThrow(/marker.txt does not match/)
    expect(describeFolder(paths.serviceData('db'))).toEqual(current)
    expect(readdirSync(paths.serviceDir('db'))).toEqual(['data'])
  })

  it('stops the service once for the swap and starts it again', async () => {
    await saveSnapshot({ paths, service: 'db', ...base, name: 'one', quiesce: idle })
    const calls: string[] = []
    const tracking: Quiesce = async () => {
      calls.push('stop')
      return async () => void calls.push('start')
    }
    await restoreSnapshot({ paths, service: 'db', name: 'one', box: 'postgres', boxVersion: '17', quiesce: tracking })
    expect(calls).toEqual(['stop', 'start'])
  })

  it('does not try to stop a service whose supervisor is gone, whatever the stale state file says', async () => {
    // A live service is stopped through the supervisor (test/snapshots-e2e); here there is none to ask.
    const state = { project: 'p', root, envfile: path.join(root, 'devenv.yaml'), updatedAt: '' }
    const service = {
      name: 'db',
      box: 'postgres',
      kind: 'postgres',
      health: 'healthy' as const,
      address: '127.0.0.2',
      hostnames: [],
      ports: [],
      restarts: 0,
      pid: 999_999,
    }
    writeProjectState({ ...state, services: { db: { ...service, state: 'running' } } })
    const db = { name: 'db', box: { name: 'postgres' }, kind: 'postgres', hostnames: [] }
    const spec = {
      name: 'p',
      root,
      file: state.envfile,
      runtime: 'bundled',
      services: { db },
      integrity: { files: [] },
    } as unknown as EnvSpec
    await saveSnapshot({
      paths,
      service: 'db',
      ...base,
      name: 'live',
      quiesce: quiesceService(runtimeFor(spec), spec, 'db', 'save'),
    })
    expect(listSnapshots(paths).map((info) => info.name)).toEqual(['live'])
  })

  it('saves and restores every stateful service as one set', async () => {
    makeDataFolder(paths.serviceData('mail'), 'mail-original')
    const members = [
      { service: 'db', ...base, quiesce: idle },
      { service: 'mail', box: 'mail', kind: 'mail', boxVersion: '1', quiesce: idle },
    ]
    const before = { db: describeFolder(paths.serviceData('db')), mail: describeFolder(paths.serviceData('mail')) }
    await saveSnapshotSet(paths, members, 'set1')
    expect(listSnapshots(paths).map((info) => `${info.service}/${info.name}/${info.set}`)).toEqual([
      'db/set1/true',
      'mail/set1/true',
    ])
    cleanup(paths.serviceData('db'))
    cleanup(paths.serviceData('mail'))
    makeDataFolder(paths.serviceData('mail'), 'mail-changed')
    await restoreSnapshotSet(paths, members, 'set1')
    expect(describeFolder(paths.serviceData('db'))).toEqual(before.db)
    expect(describeFolder(paths.serviceData('mail'))).toEqual(before.mail)
    // A set with a member missing is refused before anything changes.
    await deleteSnapshot(paths, 'mail', 'set1')
    await expect(restoreSnapshotSet(paths, members, 'set1')).rejects.toMatchObject({ code: 'NOT_FOUND' })
  })

  it('recovery without an interrupted operation changes nothing', async () => {
    const before = describeFolder(paths.serviceData('db'))
    expect(await recoverServiceData(paths, 'db')).toEqual({ service: 'db', action: 'none' })
    expect(describeFolder(paths.serviceData('db'))).toEqual(before)
  })
})
