#!/usr/bin/env node
// Saving a file while the site is in use (run after a build):
//   node bench/save-under-load.mjs [--saves 20]
// A temp project shaped like the webapp template's front: lb → www1, www2 (small Node apps that
// watch one folder, mount watch: restart, health GET /health), brought up with `./bin/devenv up`
// (own DEVENV_HOME and hosts file). A client keeps 4 keep-alive connections busy with GETs
// through the lb (~200 requests/s) while the app is saved the way an editor saves (temporary
// file renamed over the original), each save once the previous one is fully live. Prints:
//   failed requests (non-200 or no answer) over all saves: the target is zero;
//   saved → first answer of the new version through the lb (one backend restarted);
//   saved → every backend answers the new version (the rolling restart is over).
import { mkdirSync, renameSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { benchProject, quantile, sleep } from './support/sandbox.mjs'

const { values } = parseArgs({ options: { saves: { type: 'string', default: '20' } } })
const saves = Number(values.saves)
const { root, home, devenv, markUp } = benchProject('devenv-bench-save-load-')
const ms = (value) => `${value.toFixed(0)} ms`
const summary = (list) =>
  `median ${ms(quantile(list, 0.5))}, p90 ${ms(quantile(list, 0.9))}, min ${ms(Math.min(...list))}, max ${ms(Math.max(...list))} (n=${list.length})`
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

const APP = `const http = require('node:http')
const version = 'version 0'
const server = http.createServer((request, response) => response.end(request.url === '/health' ? 'ok' : version + ' from ' + process.env.DEVENV_SERVICE))
server.listen(Number(process.env.PORT), process.env.HOST)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
`

function writeProject() {
  mkdirSync(path.join(root, 'app'), { recursive: true })
  writeFileSync(path.join(root, 'app', 'server.cjs'), APP)
  writeFileSync(
    path.join(root, 'devenv.yaml'),
    `name: bench-save-load
services:
  lb:
    box: lb
    ports: [8000]
    backends: [www1, www2]
  www1: &www
    box: node
    command: node server.cjs
    workdir: /app
    ports: [8080]
    mounts: [{ source: ./app, target: /app, watch: restart }]
    health: { http: /health }
  www2:
    <<: *www
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

/** 4 loops of GET through the lb; records failures and, per version, when each backend first answered it. */
function loadClient(url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 })
  const state = { running: true, requests: 0, failures: [], firstSeen: new Map() }
  const once = () =>
    new Promise((resolve) => {
      const request = http.get(url, { agent, timeout: 5000 }, (response) => {
        let body = ''
        response.setEncoding('utf8')
        response.on('data', (chunk) => (body += chunk))
        response.on('end', () =>
          resolve(response.statusCode === 200 ? { body } : { failure: `${response.statusCode}: ${body.trim()}` }),
        )
        response.on('error', (error) => resolve({ failure: `response cut: ${error.message}` }))
      })
      request.on('timeout', () => request.destroy(new Error('no answer within 5 s')))
      request.on('error', (error) => resolve({ failure: `request failed: ${error.message}` }))
    })
  const loop = async () => {
    while (state.running) {
      const outcome = await once()
      state.requests += 1
      if (outcome.failure) state.failures.push(outcome.failure)
      else {
        const key = outcome.body
        if (!state.firstSeen.has(key)) state.firstSeen.set(key, performance.now())
      }
      await sleep(20)
    }
  }
  const loops = Array.from({ length: 4 }, loop)
  state.stop = async () => {
    state.running = false
    await Promise.all(loops)
    agent.destroy()
  }
  return state
}

async function waitForBoth(client, version, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs
  const keys = ['www1', 'www2'].map((name) => `version ${version} from ${name}`)
  while (!keys.every((key) => client.firstSeen.has(key))) {
    if (performance.now() > deadline)
      throw new Error(`version ${version} was not live on both backends within ${timeoutMs} ms`)
    await sleep(5)
  }
  const times = keys.map((key) => client.firstSeen.get(key))
  return { first: Math.min(...times), all: Math.max(...times) }
}

console.log(
  `devenv save-under-load benchmark: node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}, ${new Date().toString()}`,
)
console.log(`load averages before: ${load()}`)
writeProject()
markUp()
devenv('up', '--no-hosts')
const lb = JSON.parse(devenv('status', '--json')).result.services.find((entry) => entry.name === 'lb')
const client = loadClient(`http://${lb.address}:${lb.ports[0].bound ?? 8000}/`)
await waitForBoth(client, 0)
const firstLive = []
const allLive = []
for (let version = 1; version <= saves; version++) {
  const saved = performance.now()
  saveByRename(path.join(root, 'app', 'server.cjs'), APP.replace('version 0', `version ${version}`))
  const live = await waitForBoth(client, version)
  firstLive.push(live.first - saved)
  allLive.push(live.all - saved)
  await sleep(300)
}
await client.stop()
console.log(
  `requests through the lb: ${client.requests}, failed: ${client.failures.length}${client.failures.length ? ` (first: ${client.failures[0]})` : ''}`,
)
console.log(`saved → new version served through the lb:      ${summary(firstLive)}`)
console.log(`saved → every backend serves it (rolling done):  ${summary(allLive)}`)
console.log(`load averages after: ${load()}`)
if (client.failures.length) process.exitCode = 1
