#!/usr/bin/env node
// Watched mounts benchmark (run after a build):  node bench/watch.mjs [--edits 20]
//  1. startup: cost of watching a folder of ~5,000 files (time to ready, memory, inotify watches);
//  2. save styles: how far apart the file events of one editor save fall (what the debounce must cover);
//  3. sync: file saved → the static box serves the new content (keep-alive HTTP polling);
//  4. restart: file saved → debounce → the small Node app is killed and spawned again on the
//     same port → it answers with the new content. The supervisor does this restart for real;
//     here the bench does it itself so the watcher's share can be measured on its own.
//     (bench/watch-supervisor.mjs measures the same through the real supervisor and `devenv up`.)
// Prints medians (and p90) over the edits.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readlinkSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import http from 'node:http'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import { runInNewContext } from 'node:vm'
import { watch } from 'chokidar'
import { DEFAULT_DEBOUNCE_MS, watchMounts } from '../dist/watch/index.js'

const { values } = parseArgs({
  options: { edits: { type: 'string', default: '20' }, files: { type: 'string', default: '5000' } },
})
const edits = Number(values.edits)
const fileCount = Number(values.files)
const serverMain = new URL('../dist/boxes/static/main.js', import.meta.url).pathname

const folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-bench-watch-'))
const children = new Set()
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(folder, { recursive: true, force: true })
})
process.on('SIGINT', () => process.exit(130))

v8.setFlagsFromString('--expose-gc')
const collectGarbage = runInNewContext('gc')
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const now = () => performance.now()
const median = (list) => quantile(list, 0.5)
function quantile(list, q) {
  const sorted = [...list].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
}
const ms = (value) => `${value.toFixed(1)} ms`
const summary = (list) =>
  `median ${ms(median(list))}, p90 ${ms(quantile(list, 0.9))}, min ${ms(Math.min(...list))}, max ${ms(Math.max(...list))} (n=${list.length})`

function mount(source, kind) {
  return { source, target: '/app', readonly: false, watch: { kind }, ignore: [] }
}
function service(name, mounts) {
  return {
    name,
    box: { name: 'node' },
    kind: 'node',
    workdir: mounts[0].source,
    env: {},
    hostnames: [],
    ports: [],
    publish: [],
    mounts,
    dependsOn: [],
    restart: { policy: 'no', maxRestarts: 0, backoffMs: 0 },
    stopTimeoutMs: 5000,
    integrity: [],
  }
}

async function freePort() {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** GETs `target` over one keep-alive connection until the body is `expected`; returns when it was. */
async function pollUntil(agent, port, target, expected) {
  for (;;) {
    const body = await new Promise((resolve) => {
      const request = http.get({ host: '127.0.0.1', port, path: target, agent }, (response) => {
        let data = ''
        response.setEncoding('utf8')
        response.on('data', (chunk) => (data += chunk))
        response.on('end', () => resolve(data))
        response.on('error', () => resolve(undefined))
      })
      request.on('error', () => resolve(undefined))
    })
    if (body === expected) return now()
    if (body === undefined) await sleep(2)
  }
}

/** Writes like an editor that saves safely: a temporary file, then a rename over the original. */
function saveByRename(file, content) {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`)
  writeFileSync(temporary, content)
  renameSync(temporary, file)
}

async function writeFlushed(file, content) {
  const handle = await open(file, 'w')
  await handle.writeFile(content)
  await handle.sync()
  await handle.close()
}

function inotifyWatches() {
  let count = 0
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (!readlinkSync(`/proc/self/fd/${fd}`).includes('inotify')) continue
      count += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('inotify wd:')).length
    } catch {
      // fd closed meanwhile
    }
  }
  return count
}

async function benchStartup() {
  const tree = path.join(folder, 'tree')
  const perFolder = 100
  for (let i = 0; i < fileCount; i++) {
    const sub = path.join(tree, `d${Math.floor(i / perFolder) % 10}`, `e${Math.floor(i / perFolder)}`)
    if (i % perFolder === 0) mkdirSync(sub, { recursive: true })
    writeFileSync(path.join(sub, `f${i}.js`), `// ${i}\n`)
  }
  mkdirSync(path.join(tree, 'node_modules/big'), { recursive: true })
  for (let i = 0; i < 2000; i++) writeFileSync(path.join(tree, 'node_modules/big', `m${i}.js`), '')
  const times = []
  let memory = 0
  let watches = 0
  for (let round = 0; round < 5; round++) {
    collectGarbage()
    const before = process.memoryUsage().heapUsed
    const started = now()
    const watcher = watchMounts(service('tree', [mount(tree, 'restart')]), { onChange: () => {} })
    await watcher.ready
    times.push(now() - started)
    collectGarbage()
    // Round one only: chokidar keeps part of a closed watcher's memory until the next one
    // (not cumulative: measured over three different trees), which hides the cost of later rounds.
    if (round === 0) memory = process.memoryUsage().heapUsed - before
    watches = inotifyWatches()
    await watcher.close()
  }
  console.log(`startup, ${fileCount} files in ${fileCount / perFolder + 10} folders (+2,000 in node_modules, skipped):`)
  console.log(
    `  ready in ${summary(times)}; JS heap +${(memory / 1048576).toFixed(1)} MB while watching; ${watches} inotify watches`,
  )
}

/** How the events of one save spread in time, per editor style: what the quiet period must outlast. */
async function benchSaveStyles() {
  const dir = path.join(folder, 'styles')
  mkdirSync(dir)
  const file = path.join(dir, 'page.html')
  writeFileSync(file, 'v0')
  const events = []
  const watcher = watch(dir, { ignoreInitial: true, atomic: false })
  watcher.on('all', () => events.push(now()))
  await once(watcher, 'ready')
  // Each step is flushed to disk before the next, as careful editors do (vim fsyncs, JetBrains'
  // safe write too), so the events of one save are spread as far as a real save spreads them.
  const styles = {
    'write in place': async (content) => writeFlushed(file, content),
    'temp file + rename (VS Code, JetBrains)': async (content) => {
      await writeFlushed(`${file}.tmp`, content)
      renameSync(`${file}.tmp`, file)
    },
    'vim (backup, write, delete backup)': async (content) => {
      renameSync(file, `${file}~`)
      await writeFlushed(file, content)
      unlinkSync(`${file}~`)
    },
  }
  console.log('longest gap between the events of one save, as chokidar delivers them (saves 200 ms apart):')
  for (const [name, save] of Object.entries(styles)) {
    const spreads = []
    const counts = []
    for (let i = 0; i < edits; i++) {
      events.length = 0
      await save(`${name} ${i}`)
      await sleep(200)
      // The quiet period has to outlast the longest silence inside one save, not its whole length.
      if (events.length) spreads.push(Math.max(0, ...events.slice(1).map((at, k) => at - events[k])))
      counts.push(events.length)
    }
    console.log(`  ${name.padEnd(40)} gap ${summary(spreads)}; ${median(counts)} events`)
  }
  await watcher.close()
}

async function benchSync() {
  const root = path.join(folder, 'site')
  mkdirSync(root)
  const file = path.join(root, 'index.html')
  writeFileSync(file, 'version 0')
  const port = await freePort()
  const config = path.join(folder, 'static.json')
  writeFileSync(config, JSON.stringify({ service: 'web', root, address: '127.0.0.1', port, spa: false }))
  const server = spawn(process.execPath, [serverMain], {
    env: { ...process.env, DEVENV_BOX_CONFIG: config },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  children.add(server)
  server.stdout.resume()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  await pollUntil(agent, port, '/index.html', 'version 0')
  let noticed
  const watcher = watchMounts(service('web', [mount(root, 'sync')]), { onChange: () => (noticed = now()) })
  await watcher.ready
  const served = []
  const reported = []
  for (let i = 1; i <= edits; i++) {
    noticed = undefined
    const saved = now()
    saveByRename(file, `version ${i}`)
    served.push((await pollUntil(agent, port, '/index.html', `version ${i}`)) - saved)
    while (noticed === undefined) await sleep(1)
    reported.push(noticed - saved)
    await sleep(100)
  }
  await watcher.close()
  agent.destroy()
  server.kill('SIGTERM')
  await once(server, 'exit')
  children.delete(server)
  console.log('sync (static box):')
  console.log(`  saved → new content served:   ${summary(served)}`)
  console.log(`  saved → change reported:      ${summary(reported)} (debounce ${DEFAULT_DEBOUNCE_MS} ms)`)
}

const APP = `import { open } from 'node:fs/promises'
import http from 'node:http'
const message = 'version 0'
http.createServer((request, response) => response.end(message)).listen(Number(process.env.PORT), '127.0.0.1')
`

async function benchRestart() {
  const app = path.join(folder, 'app')
  mkdirSync(app)
  const file = path.join(app, 'server.mjs')
  writeFileSync(file, APP)
  const port = await freePort()
  const startApp = () => {
    const child = spawn(process.execPath, [file], {
      cwd: app,
      env: { ...process.env, PORT: String(port) },
      stdio: 'ignore',
    })
    children.add(child)
    child.once('exit', () => children.delete(child))
    return child
  }
  let child = startApp()
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  await pollUntil(agent, port, '/', 'version 0')
  const phases = []
  let restartedAt
  const watcher = watchMounts(service('app', [mount(app, 'restart')]), {
    onChange: async () => {
      restartedAt = now()
      const old = child
      const exited = once(old, 'exit')
      old.kill('SIGTERM')
      await exited
      child = startApp()
    },
  })
  await watcher.ready
  const live = []
  for (let i = 1; i <= edits; i++) {
    const saved = now()
    saveByRename(file, APP.replace('version 0', `version ${i}`))
    const answered = await pollUntil(agent, port, '/', `version ${i}`)
    live.push(answered - saved)
    phases.push({ debounce: restartedAt - saved, restart: answered - restartedAt })
    await sleep(150)
  }
  await watcher.close()
  agent.destroy()
  child.kill('SIGTERM')
  await once(child, 'exit')
  console.log('restart (small Node HTTP app, killed and spawned again by the bench):')
  console.log(`  saved → new content served:   ${summary(live)}`)
  console.log(`    of which saved → restart begins: ${summary(phases.map((phase) => phase.debounce))}`)
  console.log(`    of which stop + start + answer:  ${summary(phases.map((phase) => phase.restart))}`)
}

console.log(
  `devenv watch benchmark: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}`,
)
await benchStartup()
await benchSaveStyles()
await benchSync()
await benchRestart()
