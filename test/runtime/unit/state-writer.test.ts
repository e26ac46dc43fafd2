import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { StateWriter } from '../../../src/runtime/bundled/state-writer.js'
import type { ProjectState } from '../../../src/state/index.js'

describe('StateWriter', () => {
  const folders: string[] = []
  const project = (): string => {
    const root = mkdtempSync(path.join(tmpdir(), 'devenv-state-writer-'))
    folders.push(root)
    return root
  }
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
  })
  const state = (root: string, marker: string): ProjectState => ({
    project: marker,
    root,
    envfile: path.join(root, 'devenv.yaml'),
    services: {},
    updatedAt: '',
  })
  const written = (root: string): string =>
    (JSON.parse(readFileSync(path.join(root, '.devenv', 'state.json'), 'utf8')) as ProjectState).project
  const settled = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100))

  it('coalesces writes made soon, and the last one lands', async () => {
    const root = project()
    const writer = new StateWriter(root, () => undefined)
    writer.write(state(root, 'first'))
    for (const marker of ['a', 'b', 'c', 'last']) writer.writeSoon(state(root, marker))
    await settled()
    expect(written(root)).toBe('last')
    expect(readdirSync(path.join(root, '.devenv')).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })

  it('never lets a write made soon replace a newer one made at once', async () => {
    const root = project()
    const writer = new StateWriter(root, () => undefined)
    writer.write(state(root, 'first'))
    writer.writeSoon(state(root, 'older'))
    writer.write(state(root, 'newer'))
    await settled()
    expect(written(root)).toBe('newer')
    expect(readdirSync(path.join(root, '.devenv')).filter((name) => name.endsWith('.tmp'))).toEqual([])
  })
})
