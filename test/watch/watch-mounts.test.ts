import { mkdirSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { describeChange, watchMounts, type MountChange, type MountsWatcher } from '../../src/watch/index.js'
import { DevenvError } from '../../src/errors.js'
import { mount, service, sleep, temporaryFolder, waitFor } from './fixtures.js'

/** Longer than the debounce plus inotify delivery: after it, no further onChange is coming. */
const SETTLE_MS = 300

let folder: ReturnType<typeof temporaryFolder>
let watcher: MountsWatcher | undefined
let changes: MountChange[]

beforeEach(() => {
  folder = temporaryFolder('devenv-watch-')
  mkdirSync(path.join(folder.path, 'app/src'), { recursive: true })
  mkdirSync(path.join(folder.path, 'app/.git'), { recursive: true })
  mkdirSync(path.join(folder.path, 'app/node_modules/lib'), { recursive: true })
  mkdirSync(path.join(folder.path, 'app/dist'), { recursive: true })
  writeFileSync(path.join(folder.path, 'app/index.html'), 'v0')
  changes = []
})

afterEach(async () => {
  await watcher?.close()
  watcher = undefined
  folder.remove()
})

async function start(ignore: string[] = [], action: MountChange['action'] = { kind: 'sync' }, debounceMs?: number) {
  const app = path.join(folder.path, 'app')
  watcher = watchMounts(
    service('web', [mount(app, action, ignore)]),
    { onChange: (change) => void changes.push(change) },
    { debounceMs },
  )
  await watcher.ready
  return app
}

describe('watchMounts', () => {
  it('reports a burst of 20 writes as one change', async () => {
    // A quiet period well above a stall of this shared machine between two awaited writes.
    const app = await start([], { kind: 'sync' }, 250)
    for (let i = 0; i < 20; i++) await writeFile(path.join(app, i % 2 ? 'index.html' : 'src/main.js'), `v${i}`)
    await waitFor(() => changes[0], 3000, 'the change')
    await sleep(SETTLE_MS + 250)
    expect(changes).toHaveLength(1)
    expect(changes[0]).toMatchObject({ service: 'web', action: { kind: 'sync' }, paths: ['index.html', 'src/main.js'] })
    expect(changes[0]!.mount.source).toBe(app)
  })

  it('ignores .git, node_modules, ignore globs and editor swap files', async () => {
    const app = await start(['dist/**', '*.log'])
    writeFileSync(path.join(app, '.git/index'), 'x')
    writeFileSync(path.join(app, 'node_modules/lib/index.js'), 'x')
    writeFileSync(path.join(app, 'dist/bundle.js'), 'x')
    writeFileSync(path.join(app, 'src/debug.log'), 'x')
    writeFileSync(path.join(app, 'src/.main.js.swp'), 'x')
    mkdirSync(path.join(app, 'node_modules/fresh'))
    writeFileSync(path.join(app, 'node_modules/fresh/a.js'), 'x')
    await sleep(SETTLE_MS)
    expect(changes).toEqual([])
    // The watcher is alive: a change that matters is reported, alone.
    writeFileSync(path.join(app, 'src/main.js'), 'real')
    await waitFor(() => changes[0], 3000, 'the change')
    expect(changes[0]!.paths).toEqual(['src/main.js'])
  })

  it('sees a save that writes a temporary file and renames it over the original', async () => {
    const app = await start()
    writeFileSync(path.join(app, '.index.html.tmp-123'), 'v1')
    renameSync(path.join(app, '.index.html.tmp-123'), path.join(app, 'index.html'))
    await waitFor(() => changes[0], 3000, 'the change')
    await sleep(SETTLE_MS)
    expect(changes).toHaveLength(1)
    expect(changes[0]!.paths).toContain('index.html')
  })

  it('sees a vim-style save: original moved to a backup, new file written, backup deleted', async () => {
    const app = await start()
    renameSync(path.join(app, 'index.html'), path.join(app, 'index.html~'))
    writeFileSync(path.join(app, 'index.html'), 'v1')
    unlinkSync(path.join(app, 'index.html~'))
    await waitFor(() => changes[0], 3000, 'the change')
    await sleep(SETTLE_MS)
    expect(changes).toHaveLength(1)
    expect(changes[0]!.paths).toEqual(['index.html'])
  })

  it('reports new folders and files in them', async () => {
    const app = await start()
    mkdirSync(path.join(app, 'src/lib'))
    writeFileSync(path.join(app, 'src/lib/util.js'), 'x')
    await waitFor(() => changes[0], 3000, 'the change')
    await sleep(SETTLE_MS)
    expect(changes.flatMap((change) => change.paths)).toContain('src/lib')
  })

  it('does not watch mounts with watch: none, and passes the action through', async () => {
    const other = path.join(folder.path, 'other')
    mkdirSync(other)
    const app = path.join(folder.path, 'app')
    watcher = watchMounts(
      service('www', [mount(other, { kind: 'none' }), mount(app, { kind: 'command', command: 'npm run build' })]),
      { onChange: (change) => void changes.push(change) },
    )
    await watcher.ready
    expect(watcher.mounts.map((watched) => watched.source)).toEqual([app])
    writeFileSync(path.join(other, 'x'), 'x')
    writeFileSync(path.join(app, 'index.html'), 'v1')
    await waitFor(() => changes[0], 3000, 'the change')
    await sleep(SETTLE_MS)
    expect(changes).toHaveLength(1)
    expect(changes[0]!.action).toEqual({ kind: 'command', command: 'npm run build' })
    expect(describeChange(changes[0]!)).toBe(`1 change in ${app} (index.html) → run: npm run build`)
  })

  it('stops reporting after close', async () => {
    const app = await start()
    await watcher!.close()
    writeFileSync(path.join(app, 'index.html'), 'v1')
    await sleep(SETTLE_MS)
    expect(changes).toEqual([])
  })

  it('refuses a mount whose source does not exist', () => {
    const missing = path.join(folder.path, 'missing')
    expect(() => watchMounts(service('web', [mount(missing, { kind: 'restart' })]), { onChange: () => {} })).toThrow(
      DevenvError,
    )
    expect(() => watchMounts(service('web', [mount(missing, { kind: 'restart' })]), { onChange: () => {} })).toThrow(
      /does not exist/,
    )
  })
})

describe('watchMounts and symbolic links', () => {
  it('does not walk into a link to a folder outside the mount', async () => {
    const outside = path.join(folder.path, 'outside')
    mkdirSync(path.join(outside, 'deep/deeper'), { recursive: true })
    const app = path.join(folder.path, 'app')
    symlinkSync(outside, path.join(app, 'linked'))
    await start()
    writeFileSync(path.join(outside, 'deep/deeper/elsewhere.txt'), 'x')
    await sleep(SETTLE_MS)
    expect(changes).toEqual([])
    writeFileSync(path.join(app, 'index.html'), 'v1')
    await waitFor(() => changes[0], 3000, 'the change')
    expect(changes[0]!.paths).toEqual(['index.html'])
  })
})
