#!/usr/bin/env node
// devenv against Docker Compose, side by side in one run: the reference stack (../shared/refstack:
// psql, www1, www2, lb, mail, ftp as Dockerfiles + docker-compose) and the webapp template seeded
// with the same seed (its schema and 5000 users), measured in alternating pairs (compose, devenv,
// compose, devenv, ...), each with the other stopped, and reported as ratios pair by pair.
//   cold up   nothing on disk (compose: `down -v`; devenv: a fresh project folder) until every service
//             is healthy, psql answers the 5000 users and the lb answers
//   warm up   stopped with data kept (compose: `stop` → `start`; devenv: `down` → `up`), same condition
//   down      the whole stack stopped, data kept
//   edit      an edit of www1's code until www1's published port serves it
//   idle      CPU of the stack's processes over --idle seconds (compose: containers' cgroups + dockerd,
//             containerd, shims, docker-proxy; devenv: the supervisor's tree), and their summed RSS,
//             after the cold up and again after the warm up
// With --providers bundled,docker each round runs Compose, then the same template on each devenv
// provider (the docker provider: every service a container on the same engine as Compose's).
// Run after a build:  node bench/vs-compose.mjs [--pairs 3] [--idle 10] [--settle 3] [--steady-settle 15]
//                     [--refstack DIR] [--work DIR] [--providers bundled,docker]
// Needs a Docker engine (`docker info`) and docker-compose; skipped with one line without them.
// Traffic stays on loopback: compose publishes on 127.0.0.1, devenv listens on 127.64.x.y.
import { spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import {
  descendants,
  httpGet,
  idleFigures,
  log,
  must,
  now,
  processTable,
  run,
  sleep,
  timedUntilReady,
  until,
  usersCount,
} from './vs-compose/helpers.mjs'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(REPO, 'bin', 'devenv')
const { values } = parseArgs({
  options: {
    pairs: { type: 'string', default: '3' },
    idle: { type: 'string', default: '10' },
    settle: { type: 'string', default: '3' },
    // After the warm up: every Node process's V8 runs its memory reducer (a few full GCs, 20-60 ms
    // of CPU each) in its first ~12 s; from then on a stack only idles.
    'steady-settle': { type: 'string', default: '15' },
    refstack: { type: 'string' },
    work: { type: 'string', default: path.join(os.tmpdir(), 'devenv-bench-vs-compose') },
    providers: { type: 'string', default: 'bundled' },
  },
})
const PROVIDERS = values.providers.split(',').map((name) => name.trim())
const PAIRS = Number(values.pairs)
const IDLE_S = Number(values.idle)
const SETTLE_S = Number(values.settle)
const STEADY_SETTLE_S = Number(values['steady-settle'])
const WORK = path.resolve(values.work)
const USERS = 5000

const engine = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { encoding: 'utf8', timeout: 10_000 })
const compose = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8', timeout: 10_000 })
if (engine.status !== 0 || compose.status !== 0) {
  console.log(
    `vs-compose: skipped: ${engine.status !== 0 ? 'no Docker engine answers `docker info`' : 'docker-compose is not installed'} (the refstack README says how to set one up)`,
  )
  process.exit(0)
}
const refstackSource = [
  values.refstack,
  path.join(REPO, '..', 'shared', 'refstack'),
  path.join(REPO, '..', '..', 'shared', 'refstack'),
].find((folder) => folder && existsSync(path.join(folder, 'docker-compose.yml')))
if (!refstackSource) {
  console.log(
    'vs-compose: skipped: no reference stack found (pass --refstack DIR, the folder holding docker-compose.yml)',
  )
  process.exit(0)
}
if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(2)
}

// ---------------------------------------------------------------------------------------------
// the Compose side

const REF = path.join(WORK, 'refstack')
const composeEnv = { ...process.env, COMPOSE_PROJECT_NAME: 'refstack' }
const dc = (args) => must('docker-compose', args, { cwd: REF, env: composeEnv })
const REF_SERVICES = ['psql', 'www1', 'www2', 'lb', 'mail', 'ftp']
const refContainers = REF_SERVICES.map((name) => `refstack_${name}_1`)
const refPsql = { host: '127.0.0.1', port: 15432, user: 'skel', password: 'skel', database: 'skel' }

async function allContainersHealthy() {
  const result = await run('docker', ['inspect', '-f', '{{.State.Health.Status}}', ...refContainers])
  return (
    result.code === 0 && result.stdout.split('\n').filter((line) => line === 'healthy').length === REF_SERVICES.length
  )
}
const composeReady = [
  ['psql answers 5000 users', async () => (await usersCount(refPsql)) === USERS],
  ['lb answers', async () => (await httpGet('127.0.0.1', 18080)) !== undefined],
  ['every container healthy', allContainersHealthy],
]

async function buildRefstack() {
  if (!existsSync(path.join(REF, 'docker-compose.yml'))) {
    mkdirSync(WORK, { recursive: true })
    cpSync(refstackSource, REF, { recursive: true })
    spawnSync('chmod', ['-R', 'u+w', REF])
  }
  if ((await run('docker', ['image', 'inspect', 'ref/debian:bookworm'])).code !== 0) {
    log('compose: building the base image (debootstrap, about a minute)')
    await must(path.join(REF, 'base', 'make-base.sh'), [path.join(WORK, 'debian-root')])
  }
  if (!existsSync(path.join(REF, 'images', 'psql', 'initdb.d', '02-data.sql')))
    await must(path.join(REF, 'images', 'psql', 'make-seed.sh'), [])
  log('compose: docker-compose build')
  await dc(['build', '-q'])
}

async function composeIds() {
  const result = await run('docker', ['inspect', '-f', '{{.Id}} {{.State.Pid}}', ...refContainers])
  return result.stdout
    .trim()
    .split('\n')
    .map((line) => line.split(' '))
    .map(([id, pid]) => ({ id, pid: Number(pid) }))
}

async function composeIdle(settleS = SETTLE_S) {
  return containersIdle(await composeIds(), settleS)
}

/** CPU and summed RSS of containers (their cgroups), and of the engine's daemons, shims and proxies. */
async function containersIdle(containers, settleS) {
  const daemons = (table) =>
    [...table].filter(([, info]) => ['dockerd', 'containerd', 'docker-proxy'].includes(info.comm)).map(([pid]) => pid)
  // a container's shim is its init's parent; healthchecks run as short-lived children of the shim
  const pidsOf = (table) =>
    descendants(table, [...daemons(table), ...containers.map(({ pid }) => table.get(pid)?.ppid ?? pid)])
  const cgroupNs = () =>
    containers.reduce((sum, { id }) => {
      try {
        return sum + Number(readFileSync(`/sys/fs/cgroup/cpuacct/docker/${id}/cpuacct.usage`, 'utf8'))
      } catch {
        return sum
      }
    }, 0)
  // the containers' processes are counted by their cgroup; only their RSS comes from /proc
  const inContainers = (table) =>
    descendants(
      table,
      containers.map(({ pid }) => pid),
    )
  const all = await idleFigures(
    { settleS, idleS: IDLE_S },
    (table) => {
      const inside = inContainers(table)
      return new Set([...pidsOf(table)].filter((pid) => !inside.has(pid)))
    },
    cgroupNs,
  )
  const table = processTable()
  const containerRss = [...inContainers(table)].reduce((sum, pid) => sum + (table.get(pid)?.rssKib ?? 0), 0) / 1024
  return { cpuPercent: all.cpuPercent, rssMiB: all.rssMiB + containerRss }
}

async function composeCycle() {
  const figures = {}
  await dc(['down', '-v'])
  spawnSync('sync')
  await sleep(2000)
  figures.cold = await timedUntilReady('docker-compose', ['up', '-d'], { cwd: REF, env: composeEnv }, composeReady)
  const idle = await composeIdle()
  figures.cpu = idle.cpuPercent
  figures.rss = idle.rssMiB
  figures.edit = await composeEdit()
  await dc(['stop'])
  await sleep(2000)
  figures.warm = await timedUntilReady('docker-compose', ['start'], { cwd: REF, env: composeEnv }, composeReady)
  const steady = await composeIdle(STEADY_SETTLE_S)
  figures.cpuWarm = steady.cpuPercent
  figures.rssWarm = steady.rssMiB
  const started = now()
  await dc(['down'])
  figures.down = now() - started
  await dc(['down', '-v'])
  return figures
}

// Both sides' edits are polled every 10 ms: at 50 ms the overshoot (25 ms on average) was a tenth of devenv's figure.
const EDIT_POLL_MS = 10

async function composeEdit() {
  const file = path.join(REF, 'app', 'server.js')
  const original = readFileSync(file, 'utf8')
  const token = `edit-${Date.now()}`
  await sleep(1000)
  const started = now()
  try {
    writeFileSync(file, original.replace(/^const MESSAGE = .*$/m, `const MESSAGE = '${token}';`))
    await dc(['restart', 'www1'])
    await until(
      async () => (await httpGet('127.0.0.1', 18081))?.includes(token),
      'compose www1 serves the edit',
      60_000,
      EDIT_POLL_MS,
    )
    return now() - started
  } finally {
    writeFileSync(file, original)
  }
}

// ---------------------------------------------------------------------------------------------
// the devenv side

const DEV_BASE = path.join(WORK, 'devenv')
const DEV_HOME = path.join(DEV_BASE, 'home')
const DEV_ROOT = path.join(DEV_BASE, 'webapp')
const devEnv = { ...process.env, DEVENV_HOME: DEV_HOME, DEVENV_HOSTS_FILE: path.join(DEV_BASE, 'hosts'), NO_COLOR: '1' }
delete devEnv.FORCE_COLOR
delete devEnv.DEVENV_DEBUG
const devenv = (args) => must(BIN, args, { cwd: DEV_ROOT, env: devEnv })
let addressBlock
let www1Port = 81

async function devStatus() {
  const result = await run(BIN, ['status', '--json'], { cwd: DEV_ROOT, env: devEnv })
  return result.code === 0 ? JSON.parse(result.stdout).result : undefined
}
/** `devenv status` after the timed up agrees that all is healthy; ms it took. */
async function confirmedByStatus() {
  const started = now()
  const status = await devStatus()
  const ms = now() - started
  if (!allHealthy(status)) throw new Error(`devenv status after up: not all healthy: ${JSON.stringify(status)}`)
  return ms
}
const serviceOf = (status, name) => status?.services.find((service) => service.name === name)
let devPsql
let devLb
/** The stack as a report of devenv's (up --json, status --json) says it is: all six running and healthy. */
function allHealthy(report) {
  if (
    !report ||
    report.services.length !== 6 ||
    report.services.some((service) => service.state !== 'running' || service.health !== 'healthy')
  )
    return false
  devPsql = { host: serviceOf(report, 'psql').address, port: 5432, user: 'skel', password: 'skel', database: 'skel' }
  const lb = serviceOf(report, 'lb')
  devLb = { host: lb.address, port: lb.ports.find((port) => port.port === 80).bound }
  return true
}
// `up` exits 0 only once every service is healthy, and its --json report says so: health is read
// from that report, as a user's script would. (Until Dec 1 a `devenv status` ran after `up`, so each
// devenv figure also held one more CLI start; it is timed apart now, as `statusAfterUp`.)
const devReady = [
  [
    'every service healthy',
    async (up) => {
      if (!allHealthy(up && JSON.parse(up.stdout).result))
        throw new Error(`devenv up --json: not all healthy:\n${up?.stdout}`)
      return true
    },
  ],
  ['psql answers 5000 users', async () => (await usersCount(devPsql)) === USERS],
  ['lb answers', async () => (await httpGet(devLb.host, devLb.port)) !== undefined],
]

/** A fresh project folder from the webapp template, with the reference stack's seed in place of db/. */
async function freshDevProject() {
  if (existsSync(DEV_ROOT)) {
    await run(BIN, ['down'], { cwd: DEV_ROOT, env: devEnv })
    await run(BIN, ['destroy', '--force'], { cwd: DEV_ROOT, env: devEnv })
  }
  rmSync(DEV_ROOT, { recursive: true, force: true })
  mkdirSync(DEV_ROOT, { recursive: true })
  mkdirSync(DEV_HOME, { recursive: true })
  chmodSync(DEV_BASE, 0o755) // PostgreSQL runs as an unprivileged user when we are root
  chmodSync(WORK, 0o755)
  // Its own loopback block, one nobody listens on (other stacks of this machine hold some).
  addressBlock ??= freeAddressBlock()
  writeFileSync(
    path.join(DEV_HOME, 'addresses.json'),
    JSON.stringify({ [DEV_ROOT]: { block: addressBlock, services: {} } }),
  )
  await devenv(['init', '--template', 'webapp'])
  const seed = path.join(REF, 'images', 'psql', 'initdb.d')
  rmSync(path.join(DEV_ROOT, 'db'), { recursive: true, force: true })
  mkdirSync(path.join(DEV_ROOT, 'db'))
  cpSync(path.join(seed, '01-schema.sql'), path.join(DEV_ROOT, 'db', 'schema.sql'))
  cpSync(path.join(seed, '02-data.sql'), path.join(DEV_ROOT, 'db', 'data.sql'))
  const envfile = path.join(DEV_ROOT, 'devenv.yaml')
  let text = readFileSync(envfile, 'utf8')
  for (const port of [81, 82]) {
    if (await canBind('127.0.0.1', port)) continue
    const replacement = await freePort()
    text = text.replace(`"${port}:8080"`, `"${replacement}:8080"`)
    if (port === 81) www1Port = replacement
  }
  writeFileSync(envfile, text)
}

function freeAddressBlock() {
  const busy = new Set()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[3] === '0A') busy.add(Number.parseInt(fields[1].slice(4, 6), 16))
  }
  const free = []
  for (let block = 40; block < 240; block++) if (!busy.has(block)) free.push(block)
  return free[Math.floor(Math.random() * free.length)]
}

function canBind(host, port) {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)))
  })
}
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function devIdle(provider, settleS = SETTLE_S) {
  if (provider === 'docker') {
    const ids = await run('docker', ['ps', '-q', '--no-trunc', '--filter', `label=dev.devenv.project=${DEV_ROOT}`])
    const list = ids.stdout.split('\n').filter(Boolean)
    const pids = await run('docker', ['inspect', '-f', '{{.Id}} {{.State.Pid}}', ...list])
    return containersIdle(
      pids.stdout
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .map(([id, pid]) => ({ id, pid: Number(pid) })),
      settleS,
    )
  }
  const supervisor = JSON.parse(readFileSync(path.join(DEV_ROOT, '.devenv', 'supervisor.json'), 'utf8')).pid
  return idleFigures({ settleS, idleS: IDLE_S }, (table) => descendants(table, [supervisor]))
}

async function devEdit() {
  const file = path.join(DEV_ROOT, 'app', 'server.cjs')
  const original = readFileSync(file, 'utf8')
  const token = `edit-${Date.now()}`
  await sleep(1000)
  const started = now()
  writeFileSync(file, original.replace('<title>skel</title>', `<title>${token}</title>`))
  await until(
    async () => (await httpGet('127.0.0.1', www1Port))?.includes(token),
    'devenv www1 serves the edit',
    60_000,
    EDIT_POLL_MS,
  )
  const ms = now() - started
  writeFileSync(file, original)
  await until(
    async () => !(await httpGet('127.0.0.1', www1Port))?.includes(token),
    'devenv www1 back to the original',
    60_000,
  )
  return ms
}

/** How the cold boot's cluster came to be, and its "prepare began → every database present" figure. */
function psqlLogSays() {
  try {
    const text = readFileSync(path.join(DEV_ROOT, '.devenv', 'logs', 'psql.log'), 'utf8')
    const ready = /ready, every database present, (\d+) ms after prepare began/.exec(text)
    const how = text.includes('from the seeded cache')
      ? `seeded cache (${text.includes('cluster moved in') ? 'its ready copy moved in' : 'copied'})`
      : text.includes('(initdb)')
        ? 'initdb + seed'
        : text.includes('from the machine-wide cache')
          ? 'fresh-cluster cache + seed'
          : '?'
    return `${how}, psql ready ${ready ? ready[1] : '?'} ms after its prepare began`
  } catch {
    return '?'
  }
}

async function devCycle(provider) {
  const figures = {}
  await freshDevProject()
  if (provider === 'docker') {
    const envfile = path.join(DEV_ROOT, 'devenv.yaml')
    writeFileSync(envfile, readFileSync(envfile, 'utf8').replace(/^name: /m, 'runtime: docker\nname: '))
  }
  spawnSync('sync')
  await sleep(2000)
  figures.cold = await timedUntilReady(BIN, ['up', '--json'], { cwd: DEV_ROOT, env: devEnv }, devReady, false)
  figures.statusAfterUp = await confirmedByStatus()
  figures.coldPath = provider === 'docker' ? 'postgres in its container' : psqlLogSays()
  const idle = await devIdle(provider)
  figures.cpu = idle.cpuPercent
  figures.rss = idle.rssMiB
  figures.edit = await devEdit()
  await devenv(['down'])
  await sleep(2000)
  figures.warm = await timedUntilReady(BIN, ['up', '--json'], { cwd: DEV_ROOT, env: devEnv }, devReady, false)
  await confirmedByStatus()
  const steady = await devIdle(provider, STEADY_SETTLE_S)
  figures.cpuWarm = steady.cpuPercent
  figures.rssWarm = steady.rssMiB
  const started = now()
  await devenv(['down'])
  figures.down = now() - started
  return figures
}

// ---------------------------------------------------------------------------------------------
// main

const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

process.on('SIGINT', () => {
  spawnSync('docker-compose', ['down', '-v'], { cwd: REF, env: composeEnv })
  spawnSync(BIN, ['down'], { cwd: DEV_ROOT, env: devEnv })
  process.exit(130)
})

await buildRefstack()
log(`compose: priming run (first up after a build; not counted)`)
await composeCycle()
const primings = {}
for (const provider of PROVIDERS) {
  log(`devenv (${provider}): priming run (first up with this DEVENV_HOME; not counted)`)
  primings[provider] = await devCycle(provider)
}
const priming = primings[PROVIDERS[0]]
const pairs = []
for (let pair = 1; pair <= PAIRS; pair++) {
  log(`pair ${pair}/${PAIRS}: compose`)
  const c = await composeCycle()
  const round = { compose: c }
  for (const provider of PROVIDERS) {
    log(`pair ${pair}/${PAIRS}: devenv (${provider})`)
    const d = await devCycle(provider)
    round[provider] = d
    const f = (ms) => `${(ms / 1000).toFixed(2)} s`
    log(
      `pair ${pair} ${provider} (load ${os.loadavg()[0].toFixed(1)}): cold ${f(c.cold)} / ${f(d.cold)} (${d.coldPath}), warm ${f(c.warm)} / ${f(d.warm)}, down ${f(c.down)} / ${f(d.down)}, edit ${f(c.edit)} / ${f(d.edit)}, cpu ${c.cpu.toFixed(1)} % / ${d.cpu.toFixed(1)} %, devenv status after up ${f(d.statusAfterUp)}, rss ${c.rss.toFixed(0)} / ${d.rss.toFixed(0)} MiB; after warm: cpu ${c.cpuWarm.toFixed(1)} % / ${d.cpuWarm.toFixed(1)} %, rss ${c.rssWarm.toFixed(0)} / ${d.rssWarm.toFixed(0)} MiB`,
    )
  }
  round.devenv = round[PROVIDERS[0]]
  pairs.push(round)
}
spawnSync(BIN, ['destroy', '--force'], { cwd: DEV_ROOT, env: devEnv })

const rows = [
  ['cold up (nothing on disk) to all healthy, psql answering 5000 users, lb answering', 'cold', 's'],
  ['warm up (stopped, data kept)', 'warm', 's'],
  ['down', 'down', 's'],
  ['edit to live (www1 via its published port)', 'edit', 's'],
  ['idle CPU of the stack after the cold up, % of one core', 'cpu', '%'],
  ['idle memory after the cold up, summed RSS', 'rss', 'MiB'],
  // After a cold up devenv still fills its cluster cache and the databases' spares for a few
  // seconds (a first boot's work, counted above); after the warm up both stacks only idle.
  ['idle CPU of the stack after the warm up (from the 15th s), % of one core', 'cpuWarm', '%'],
  ['idle memory after the warm up (from the 15th s), summed RSS', 'rssWarm', 'MiB'],
]
const show = (value, unit) =>
  unit === 's' ? `${(value / 1000).toFixed(2)} s` : unit === '%' ? `${value.toFixed(1)} %` : `${value.toFixed(0)} MiB`
console.log('')
console.log(
  `vs-compose: ${PAIRS} alternating pairs, idle over ${IDLE_S} s after ${SETTLE_S} s; ${os.cpus().length} × ${os.cpus()[0]?.model}; ${new Date().toISOString()}`,
)
console.log(
  `load average (1 min) at the end: ${os.loadavg()[0].toFixed(2)}; engine ${engine.stdout.trim()}, docker-compose ${compose.stdout.trim()}, node ${process.version}; devenv cold path: ${pairs.map((p) => p.devenv.coldPath).join('; ')} (priming run: ${priming.coldPath}, ${(priming.cold / 1000).toFixed(2)} s)`,
)
console.log(
  `devenv status --json run after each cold up to confirm it (not in the figures, as up --json reports health itself): median ${(median(pairs.map((p) => p.devenv.statusAfterUp)) / 1000).toFixed(2)} s`,
)
console.log('')
for (const provider of PROVIDERS) {
  console.log('')
  console.log(`devenv on the ${provider} runtime:`)
  console.log('')
  console.log('| | Compose | devenv | ratio (median of pairs) | ratios pair by pair |')
  console.log('| --- | --- | --- | --- | --- |')
  for (const [label, key, unit] of rows) {
    const c = median(pairs.map((p) => p.compose[key]))
    const d = median(pairs.map((p) => p[provider][key]))
    // an idle stack can use no tick at all over a short window: no ratio then, rather than Infinity
    const ratios = pairs.map((p) => p.compose[key] / p[provider][key]).filter(Number.isFinite)
    console.log(
      `| ${label} | ${show(c, unit)} | ${show(d, unit)} | ${ratios.length ? `${median(ratios).toFixed(1)}×` : 'n/a'} | ${ratios.map((ratio) => `${ratio.toFixed(1)}×`).join(' ')} |`,
    )
  }
}
