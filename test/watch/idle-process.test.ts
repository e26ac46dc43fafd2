// The end of a burst must come with nothing else going on in the process (the supervisor is idle
// between saves): no other timer or event may be needed to wake it. Runs dist/: build first.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { renameSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { temporaryFolder } from './fixtures.js'

const WATCH = new URL('../../dist/watch/index.js', import.meta.url).href

const CHILD = `
const { watchMounts } = await import(process.env.WATCH_MODULE)
const source = process.env.WATCH_SOURCE
const watcher = watchMounts({ name: 'api', mounts: [{ source, target: '/app', readonly: false, watch: { kind: 'restart' }, ignore: [] }] }, {
  onChange: async (change) => {
    console.log(JSON.stringify(change.paths))
    await watcher.close()
  },
})
await watcher.ready
console.log('ready')
`

let folder: ReturnType<typeof temporaryFolder>
beforeEach(() => {
  folder = temporaryFolder('devenv-watch-idle-')
})
afterEach(() => folder.remove())

it('reports a burst in a process that has nothing else to do', async () => {
  writeFileSync(path.join(folder.path, 'server.js'), 'v1')
  const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, WATCH_MODULE: WATCH, WATCH_SOURCE: folder.path },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  try {
    const lines: string[] = []
    child.stdout.setEncoding('utf8')
    child.stdout.on('data', (data: string) => lines.push(...data.split('\n').filter(Boolean)))
    while (!lines.includes('ready')) await new Promise((resolve) => setTimeout(resolve, 10))
    writeFileSync(path.join(folder.path, '.server.js.tmp'), 'v2')
    renameSync(path.join(folder.path, '.server.js.tmp'), path.join(folder.path, 'server.js'))
    // The child closes its watcher once it has reported, and then has nothing left to run. A liveness
    // bound, not a benchmark: 50 quiet periods. (An unref'd setImmediate at the end of the burst once
    // left it waiting for an unrelated wake-up: 1.5 s in the supervisor, 8 s here, or for ever.)
    const exited = once(child, 'exit')
    const timeout = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref())
    const result = await Promise.race([exited, timeout])
    expect(result, 'the burst was not reported within 5 s').not.toBe('timeout')
    expect((result as [number])[0]).toBe(0)
    expect(lines).toEqual(['ready', '["server.js"]'])
  } finally {
    child.kill('SIGKILL')
  }
}, 15_000)
