import { cpSync, mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanup, describeFolder, makeDataFolder, tempDir } from './helpers.js'

const bin = fileURLToPath(new URL('../../bin/devenv', import.meta.url))
const fixture = fileURLToPath(new URL('../fixtures/snapshots/project', import.meta.url))
let work: string
let project: string

function devenv(args: string[], home = 'home') {
  return execa(bin, args, { cwd: project, reject: false, env: { DEVENV_HOME: path.join(work, home), NO_COLOR: '1' } })
}

beforeAll(() => {
  work = tempDir('devenv-snapcli-')
  project = path.join(work, 'project')
  cpSync(fixture, project, { recursive: true })
  makeDataFolder(path.join(project, '.devenv', 'services', 'inbox', 'data'), 'cli')
  mkdirSync(path.join(project, '.devenv', 'services', 'plain', 'data'), { recursive: true })
})
afterAll(() => cleanup(work))

describe('devenv snapshot and box, as a user runs them', () => {
  it('saves, lists as JSON and restores', async () => {
    const saved = await devenv(['snapshot', 'save', 'inbox', 'first', '--json'])
    expect(saved.exitCode).toBe(0)
    expect(JSON.parse(saved.stdout).result.snapshots[0]).toMatchObject({
      name: 'first',
      service: 'inbox',
      box: 'mail',
      kind: 'mail',
    })
    // The mail box never rewrites a file in place, so its snapshot hard-links the files.
    expect(statSync(path.join(project, '.devenv', 'services', 'inbox', 'data', 'marker.txt')).nlink).toBe(2)
    const listed = await devenv(['snapshot', 'list', '--json'])
    expect(listed.exitCode).toBe(0)
    const [info] = JSON.parse(listed.stdout).result.snapshots
    expect(Object.keys(info).sort()).toEqual([
      'box',
      'boxVersion',
      'checksum',
      'created',
      'files',
      'kind',
      'name',
      'service',
      'size',
    ])
    expect(info.checksum).toMatch(/^sha256:[0-9a-f]{64}$/)
    const table = await devenv(['snapshot', 'list'])
    expect(table.stdout).toMatch(/^NAME\s+SERVICE\s+BOX\s+SIZE\s+CREATED\s+CHECKSUM\nfirst\s+inbox\s+mail/)
    const restored = await devenv(['snapshot', 'restore', 'inbox', 'first'])
    expect(restored.exitCode).toBe(0)
    expect(restored.stdout).toContain('restored inbox from snapshot first')
  })

  it('exits 2 on bad input, with a message and no stack trace', async () => {
    for (const args of [
      ['snapshot', 'save', 'inbox', '../escape'],
      ['snapshot', 'restore', 'inbox'],
      ['snapshot', 'nosuch'],
      ['commit', 'inbox', 'mail:v1'],
      ['snapshot', 'save', 'plain'],
      ['box', 'export', 'x:y:z', '-o', 'out.tar'],
    ]) {
      const result = await devenv(args)
      expect(result.exitCode, args.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/^✖ /)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    }
    const nothing = await devenv(['snapshot', 'save', 'plain'])
    expect(nothing.stderr).toMatch(/service plain declares no databases, so its snapshots would hold nothing/)
    expect(nothing.stderr).toMatch(/services\.plain\.databases/)
    const missing = await devenv(['snapshot', 'restore', 'inbox', 'nope', '--json'])
    expect(missing.exitCode).toBe(1)
    expect(JSON.parse(missing.stdout).error.code).toBe('NOT_FOUND')
  })

  it('commits, lists, exports and imports a box into another DEVENV_HOME', async () => {
    expect((await devenv(['commit', 'inbox', 'shop-db:v1'])).exitCode).toBe(0)
    const listed = JSON.parse((await devenv(['box', 'list', '--json'])).stdout).result
    expect(listed.boxes.map((box: { name: string; tag: string }) => `${box.name}:${box.tag}`)).toEqual(['shop-db:v1'])
    const archive = path.join(work, 'shop.box.tgz')
    expect((await devenv(['box', 'export', 'shop-db:v1', '-o', archive])).exitCode).toBe(0)
    const imported = await devenv(['box', 'import', archive, '--json'], 'other-home')
    expect(imported.exitCode).toBe(0)
    expect(JSON.parse(imported.stdout).result.box.checksum).toBe(listed.boxes[0].checksum)
    expect(describeFolder(path.join(work, 'other-home', 'boxes', 'shop-db', 'v1', 'data'))).toEqual(
      describeFolder(path.join(work, 'home', 'boxes', 'shop-db', 'v1', 'data')),
    )
    expect((await devenv(['box', 'remove', 'shop-db:v1'], 'other-home')).exitCode).toBe(0)
    expect(JSON.parse((await devenv(['box', 'list', '--json'], 'other-home')).stdout).result.boxes).toEqual([])
  })
})
