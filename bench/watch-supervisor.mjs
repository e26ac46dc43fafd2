#!/usr/bin/env node
// Edit-to-live latency through the real supervisor (run after a build):
//   node bench/watch-supervisor.mjs [--edits 20]
// A temp project with two services, brought up with `./bin/devenv up` (own DEVENV_HOME and hosts
// file), then edited the way an editor saves (temporary file renamed over the original):
//   sync:    site (static box, mount watch: sync): saved → the box serves the new page;
//   restart: api (small Node HTTP app, mount watch: restart, health: GET /health): saved → the
//            restarted app answers with the new content.
// The restart is split into phases read from the service's log ([devenv] lines, timestamped by
// the supervisor): saved → change noticed (debounce) → old process gone (stop) → new one spawned
// → app listening (its first stdout line) → healthy (the "restarted after the change" line).
// Prints medians (and p90) and the load averages before and after.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { benchProject, median, quantile, sleep } from './support/sandbox.mjs'

const { values } = parseArgs({ options: { edits: { type: 'string', default: '20' } } })
const edits = Number(values.edits)
const { root, home, devenv, markUp } = benchProject('devenv-bench-watch-sup-')
const ms = (value) => `${value.toFixed(1)} ms`
const summary = (list) =>
  `median ${ms(median(list))}, p90 ${ms(quantile(list, 0.9))}, min ${ms(Math.min(...list))}, max ${ms(Math.max(...list))} (n=${list.length})`
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

const APP = `import http from 'node:http'
const message = 'version 0'
const server = http.createServer((request, response) => response.end(request.url === '/health' ? 'ok' : message))
server.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

function writeProject() {
  mkdirSync(path.join(root, 'site'), { recursive: true })
  mkdirSync(path.join(root, 'app'), { recursive: true })
  writeFileSync(path.join(root, 'site', 'index.html'), 'version 0')
  writeFileSync(path.join(root, 'app', 'server.mjs'), APP)
  writeFileSync(
    path.join(root, 'devenv.yaml'),
    `name: bench-watch
services:
  site:
    box: static
    ports: [8080]
    mounts: [{ source: ./site, target: /srv, watch: sync }]
  api:
    command: node server.mjs
    workdir: /app
    ports: [8080]
    health: { http: /health }
    mounts: [{ source: ./app, target: /app, watch: restart }]
`,
  )
  // Start at a random loopback block: other homes on this machine hand out the first ones too.
  mkdirSync(home, { recursive: true })
  writeFileSync(
    path.join(home, 'addresses.json'),
    JSON.stringify({ [root]: { block: 2000 + Math.floor(Math.random() * 38_000), services: {} } }),
  )
}

function saveByRename(file, content) {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.saving`)
  writeFileSync(temporary, content)
  renameSync(temporary, file)
}

/** GETs `target` (keep-alive) until the body is `expected`; returns performance.now() when it was. */
async function pollUntil(agent, address, port, target, expected) {
  for (;;) {
    const body = await new Promise((resolve) => {
      const request = http.get({ host: address, port, path: target, agent }, (response) => {
        let data = ''
        response.setEncoding('utf8')
        response.on('data', (chunk) => (data += chunk))
        response.on('end', () => resolve(data))
        response.on('error', () => resolve(undefined))
      })
      request.on('error', () => resolve(undefined))
    })
    if (body === expected) return performance.now()
    if (body === undefined) await sleep(2)
  }
}

/** The api log's lines written since `since` (epoch ms), as { at, stream, text }. */
function logSince(since) {
  const lines = readFileSync(path.join(root, '.devenv', 'logs', 'api.log'), 'utf8').split('\n')
  return lines
    .map((line) => /^(\S+) (out|err|devenv) (.*)$/.exec(line))
    .filter(Boolean)
    .map(([, time, stream, text]) => ({ at: Date.parse(time), stream, text }))
    .filter((line) => line.at >= since - 1)
}

async function waitForLine(since, test) {
  for (let tries = 0; tries < 500; tries++) {
    const found = logSince(since).find(test)
    if (found) return found
    await sleep(10)
  }
  throw new Error('the expected log line never came')
}

function status() {
  return Object.fromEntries(JSON.parse(devenv('status', '--json')).result.services.map((entry) => [entry.name, entry]))
}

async function benchSync(site) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const port = site.ports[0].bound ?? 8080
  await pollUntil(agent, site.address, port, '/', 'version 0')
  const served = []
  for (let i = 1; i <= edits; i++) {
    const saved = performance.now()
    saveByRename(path.join(root, 'site', 'index.html'), `version ${i}`)
    served.push((await pollUntil(agent, site.address, port, '/', `version ${i}`)) - saved)
    await sleep(150)
  }
  agent.destroy()
  return served
}

async function benchRestart(api) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
  const port = api.ports[0].bound ?? 8080
  await pollUntil(agent, api.address, port, '/', 'version 0')
  const live = []
  const phases = []
  for (let i = 1; i <= edits; i++) {
    const savedWall = Date.now()
    const saved = performance.now()
    saveByRename(path.join(root, 'app', 'server.mjs'), APP.replace('version 0', `version ${i}`))
    live.push((await pollUntil(agent, api.address, port, '/', `version ${i}`)) - saved)
    const healthy = await waitForLine(
      savedWall,
      (line) => line.stream === 'devenv' && line.text.startsWith('restarted after the change'),
    )
    const lines = logSince(savedWall)
    const at = (test) => lines.find(test)?.at
    const noticed = at((line) => line.text.startsWith('change: '))
    const stopped = at((line) => line.text.startsWith('stopped ('))
    const spawned = at((line) => line.text.startsWith('started pid'))
    const listening = at((line) => line.stream === 'out' && line.text === 'listening')
    phases.push({
      debounce: noticed - savedWall,
      stop: stopped - noticed,
      spawn: spawned - stopped,
      listen: listening - spawned,
      health: healthy.at - listening,
      reported: Number(/in (\d+) ms/.exec(healthy.text)?.[1]),
    })
    await sleep(300)
  }
  agent.destroy()
  return { live, phases }
}

console.log(
  `devenv watch benchmark through the supervisor: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, ${new Date().toString()}`,
)
console.log(`load averages before: ${load()}`)
writeProject()
const started = performance.now()
markUp()
devenv('up', '--no-hosts')
console.log(`up (two services) in ${ms(performance.now() - started)}`)
const services = status()
// The restart watcher is ready once up returns; give chokidar's first walk a moment anyway.
await sleep(300)
const served = await benchSync(services.site)
const { live, phases } = await benchRestart(services.api)
const column = (name) => phases.map((phase) => phase[name]).filter((value) => Number.isFinite(value))
console.log('sync (static box):')
console.log(`  saved → new content served:      ${summary(served)}`)
console.log('restart (small Node app, health GET /health):')
console.log(`  saved → new content served:      ${summary(live)}`)
console.log(`    saved → change noticed:        ${summary(column('debounce'))} (debounce 100 ms)`)
console.log(`    change → old process gone:     ${summary(column('stop'))}`)
console.log(`    gone → new process spawned:    ${summary(column('spawn'))}`)
console.log(`    spawned → app listening:       ${summary(column('listen'))}`)
console.log(`    listening → healthy (logged):  ${summary(column('health'))}`)
console.log(`    restart as logged (change → healthy): ${summary(column('reported'))}`)
console.log(`load averages after: ${load()}`)
