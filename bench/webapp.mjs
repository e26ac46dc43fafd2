#!/usr/bin/env node
// The webapp stack (templates/webapp: lb, www1, www2, psql, mail, ftp) on the bundled runtime:
//   cold `up`  fresh project folder and fresh DEVENV_HOME (initdb, seed) until every service is healthy
//   warm `up`  after `down`, until every service is healthy
//   `down`     every service and the supervisor stopped
//   idle       CPU (utime+stime from /proc over --idle seconds, % of one core) and memory (sum of
//              RSS, and of PSS, which counts shared pages once) of the supervisor and every service process
// Run after a build:  node bench/webapp.mjs [--runs 5] [--idle 20] [--settle 3]
// Loopback only; each run uses a temp folder, a temp DEVENV_HOME and a temp hosts file, and is
// torn down (down, destroy --force) before the next. Prints medians, with min–max, per service.
import { execFile, spawn } from 'node:child_process'
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const REPO = fileURLToPath(new URL('..', import.meta.url))
const BIN = path.join(REPO, 'bin', 'devenv')
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    idle: { type: 'string', default: '20' },
    settle: { type: 'string', default: '3' },
    // what-if: every service's health check at this interval (e.g. 5s) instead of the default
    'health-interval': { type: 'string' },
  },
})
const RUNS = Number(values.runs)
const IDLE_S = Number(values.idle)
const SETTLE_S = Number(values.settle)
const HEALTH_INTERVAL = values['health-interval']
const SERVICES = ['lb', 'www1', 'www2', 'psql', 'mail', 'ftp']
const CLK_TCK = 100 // Linux USER_HZ: /proc/<pid>/stat times are in 1/100 s
const PAGE_KIB = 4

if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first')
  process.exit(2)
}

let current // the project being measured, torn down on exit or ^C
process.on('SIGINT', () => {
  void teardown(current).finally(() => process.exit(130))
})

// ---------------------------------------------------------------------------------------------
// one project

async function makeProject() {
  const base = mkdtempSync(path.join(os.tmpdir(), 'devenv-bench-webapp-'))
  chmodSync(base, 0o755) // PostgreSQL runs as an unprivileged user when we are root
  const project = {
    base,
    root: path.join(base, 'webapp'),
    home: path.join(base, 'home'),
    hosts: path.join(base, 'hosts'),
    notes: [],
  }
  mkdirSync(project.root)
  claimFreeAddressBlock(project)
  const init = await cli(project, ['init', '--template', 'webapp'])
  if (init.code !== 0) throw new Error(`init failed: ${init.stderr}`)
  await freePublishedPorts(project)
  if (HEALTH_INTERVAL) setHealthInterval(project, HEALTH_INTERVAL)
  return project
}

/**
 * Each run has a machine home of its own, so it would take loopback block 127.64.1.x, which a test
 * of another engineer may hold at the same time: the project is given a block nobody listens on.
 */
function claimFreeAddressBlock(project) {
  const busy = listeningAddresses()
  const free = []
  for (let block = 40; block < 240; block++)
    if (![...busy].some((address) => address.startsWith(`127.64.${block}.`))) free.push(block)
  mkdirSync(project.home, { recursive: true })
  const block = free[Math.floor(Math.random() * free.length)]
  writeFileSync(path.join(project.home, 'addresses.json'), JSON.stringify({ [project.root]: { block, services: {} } }))
}

/** 127.0.0.1:81 and :82 are machine-wide; another webapp stack on this machine may hold them. */
async function freePublishedPorts(project) {
  const envfile = path.join(project.root, 'devenv.yaml')
  let text = readFileSync(envfile, 'utf8')
  for (const port of [81, 82]) {
    if (await canBind('127.0.0.1', port)) continue
    const replacement = await freePort()
    text = text.replace(`"${port}:8080"`, `"${replacement}:8080"`)
    project.notes.push(`127.0.0.1:${port} taken, published on ${replacement}`)
  }
  writeFileSync(envfile, text)
}

function setHealthInterval(project, interval) {
  const envfile = path.join(project.root, 'devenv.yaml')
  const text = readFileSync(envfile, 'utf8')
    .replace('health: { http: /health }', `health: { http: /health, interval: ${interval} }`)
    .replace(/^( {4}box: (?:lb|postgres|mail|ftp)\n)/gm, `$1    health: { interval: ${interval} }\n`)
  writeFileSync(envfile, text)
  project.notes.push(`health checks every ${interval}`)
}

async function teardown(project) {
  if (!project) return
  await cli(project, ['down']).catch(() => undefined)
  await cli(project, ['destroy', '--force']).catch(() => undefined)
  rmSync(project.base, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------
// running the CLI

function cli(project, args) {
  return new Promise((resolve) => {
    execFile(
      BIN,
      args,
      { cwd: project.root, env: envFor(project), timeout: 120_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
      },
    )
  })
}

function envFor(project) {
  const env = { ...process.env, DEVENV_HOME: project.home, DEVENV_HOSTS_FILE: project.hosts, NO_COLOR: '1' }
  delete env.FORCE_COLOR
  delete env.DEVENV_DEBUG
  return env
}

/** `devenv up`, timed until it exits; each service's "ready" line is timed as it arrives. */
function timedUp(project) {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const child = spawn(BIN, ['up'], { cwd: project.root, env: envFor(project), stdio: ['ignore', 'pipe', 'pipe'] })
    const ready = {}
    let output = ''
    // the progress lines go to stdout or stderr depending on the renderer: read both
    for (const stream of [child.stdout, child.stderr]) {
      let pending = ''
      stream.on('data', (chunk) => {
        const at = performance.now() - started
        output += chunk
        pending += chunk
        const lines = pending.split('\n')
        pending = lines.pop()
        for (const line of lines) {
          const match = /✔ (\S+) ready at/.exec(line)
          if (match && ready[match[1]] === undefined) ready[match[1]] = at
        }
      })
    }
    child.once('error', reject)
    child.once('exit', (code) => {
      const ms = performance.now() - started
      if (code !== 0) reject(new Error(`devenv up exited ${code}:\n${output}`))
      else resolve({ ms, ready })
    })
  })
}

async function timed(project, args) {
  const started = performance.now()
  const result = await cli(project, args)
  const ms = performance.now() - started
  if (result.code !== 0) throw new Error(`devenv ${args.join(' ')} exited ${result.code}: ${result.stderr}`)
  return ms
}

/** Phases of the psql service from its log (the last boot's): initdb, seeding, prepare → ready. */
function psqlPhases(project) {
  const lines = readFileSync(path.join(project.root, '.devenv', 'logs', 'psql.log'), 'utf8').split('\n')
  const at = (line) => Date.parse(line.slice(0, line.indexOf(' ')))
  const phases = {}
  const initdb = lines.findIndex((line) => line.includes('creating the database cluster (initdb)'))
  if (initdb >= 0) {
    const started = lines.slice(initdb).find((line) => line.includes('devenv started pid'))
    if (started) phases.initdb = at(started) - at(lines[initdb])
  }
  for (const line of lines) {
    const seeded = /database \S+ seeded \(.*?, (\d+) ms\)/.exec(line)
    if (seeded) phases.seed = Number(seeded[1])
    const ready = /ready, every database present, (\d+) ms after prepare began/.exec(line)
    if (ready) phases.ready = Number(ready[1])
  }
  return phases
}

async function assertHealthy(project) {
  const result = await cli(project, ['status', '--json'])
  if (result.code !== 0) throw new Error(`status failed: ${result.stderr}`)
  const status = JSON.parse(result.stdout).result
  const bad = status.services.filter((service) => service.state !== 'running' || service.health !== 'healthy')
  const names = status.services.map((service) => service.name).sort()
  if (bad.length || names.join() !== [...SERVICES].sort().join()) {
    throw new Error(
      `not every service is healthy after up: ${JSON.stringify(status.services.map(({ name, state, health }) => ({ name, state, health })))}`,
    )
  }
  return status
}

// ---------------------------------------------------------------------------------------------
// /proc

function readProc(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state): utime is field 14, stime 15, rss 24
    return {
      ppid: Number(fields[1]),
      ticks: Number(fields[11]) + Number(fields[12]),
      rssKib: Number(fields[21]) * PAGE_KIB,
      state: fields[0],
    }
  } catch {
    return undefined
  }
}

function pssKib(pid) {
  try {
    const match = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))
    return match ? Number(match[1]) : 0
  } catch {
    return 0
  }
}

/** pid → owner: the supervisor, or the service whose process tree it belongs to. */
function stackProcesses(project, status) {
  const supervisor = JSON.parse(readFileSync(path.join(project.root, '.devenv', 'supervisor.json'), 'utf8')).pid
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const info = readProc(entry)
    if (!info || info.state === 'Z') continue
    children.set(info.ppid, [...(children.get(info.ppid) ?? []), Number(entry)])
  }
  const owners = new Map([[supervisor, 'supervisor']])
  const byServicePid = new Map(status.services.map((service) => [service.pid, service.name]))
  const walk = (pid, owner) => {
    for (const child of children.get(pid) ?? []) {
      const childOwner = owner === 'supervisor' ? (byServicePid.get(child) ?? 'supervisor (other)') : owner
      owners.set(child, childOwner)
      walk(child, childOwner)
    }
  }
  walk(supervisor, 'supervisor')
  return owners
}

async function idle(project, status) {
  await sleep(SETTLE_S * 1000)
  const owners = stackProcesses(project, status)
  const before = new Map([...owners.keys()].map((pid) => [pid, readProc(pid)?.ticks ?? 0]))
  await sleep(IDLE_S * 1000)
  // processes born meanwhile (postgres backends) count from zero
  const after = stackProcesses(project, status)
  const cpu = {}
  const rss = {}
  const pss = {}
  for (const [pid, owner] of after) {
    const info = readProc(pid)
    if (!info) continue
    cpu[owner] = (cpu[owner] ?? 0) + (info.ticks - (before.get(pid) ?? 0))
    rss[owner] = (rss[owner] ?? 0) + info.rssKib
    pss[owner] = (pss[owner] ?? 0) + pssKib(pid)
  }
  const percent = (ticks) => (ticks / CLK_TCK / IDLE_S) * 100
  const perService = Object.fromEntries(
    Object.keys(rss).map((owner) => [
      owner,
      { cpuPercent: percent(cpu[owner] ?? 0), rssMiB: rss[owner] / 1024, pssMiB: pss[owner] / 1024 },
    ]),
  )
  const sum = (record) => Object.values(record).reduce((total, value) => total + value, 0)
  return {
    cpuPercent: percent(sum(cpu)),
    rssMiB: sum(rss) / 1024,
    pssMiB: sum(pss) / 1024,
    processes: after.size,
    perService,
  }
}

// ---------------------------------------------------------------------------------------------
// helpers

function listeningAddresses() {
  const found = new Set()
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (fields[3] !== '0A') continue
    found.add(
      fields[1]
        .split(':')[0]
        .match(/../g)
        .map((byte) => parseInt(byte, 16))
        .reverse()
        .join('.'),
    )
  }
  return found
}

function canBind(address, port) {
  return new Promise((resolve) => {
    const server = net.createServer()
    server.once('error', () => resolve(false))
    server.listen({ host: address, port, exclusive: true }, () => server.close(() => resolve(true)))
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

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const median = (list) => {
  const sorted = [...list].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const spread = (list, digits = 0) =>
  `${median(list).toFixed(digits)} (${Math.min(...list).toFixed(digits)}–${Math.max(...list).toFixed(digits)})`
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

// ---------------------------------------------------------------------------------------------
// main

const samples = {
  cold: [],
  warm: [],
  down: [],
  cli: [],
  cpu: [],
  rss: [],
  pss: [],
  coldReady: {},
  warmReady: {},
  perService: {},
  psql: {},
}
const loads = [load()]
console.log(
  `webapp stack bench: ${RUNS} runs, idle ${IDLE_S} s after ${SETTLE_S} s${HEALTH_INTERVAL ? `, health checks every ${HEALTH_INTERVAL}` : ''}; ${os.cpus().length} × ${os.cpus()[0]?.model}; node ${process.version}; load ${loads[0]}`,
)

for (let run = 1; run <= RUNS; run++) {
  const project = await makeProject()
  current = project
  try {
    const cold = await timedUp(project)
    await assertHealthy(project)
    const coldPsql = psqlPhases(project)
    const cliMs = await timed(project, ['status']) // what any command costs: node + oclif start
    const down1 = await timed(project, ['down'])
    const warm = await timedUp(project)
    const status = await assertHealthy(project)
    const warmPsql = psqlPhases(project)
    const quiet = await idle(project, status)
    const down2 = await timed(project, ['down'])
    samples.cold.push(cold.ms)
    samples.warm.push(warm.ms)
    samples.down.push(down1, down2)
    samples.cli.push(cliMs)
    samples.cpu.push(quiet.cpuPercent)
    samples.rss.push(quiet.rssMiB)
    samples.pss.push(quiet.pssMiB)
    for (const [phase, ms] of Object.entries(coldPsql)) (samples.psql[`cold ${phase}`] ??= []).push(ms)
    if (warmPsql.ready !== undefined) (samples.psql['warm ready'] ??= []).push(warmPsql.ready)
    for (const [service, at] of Object.entries(cold.ready)) (samples.coldReady[service] ??= []).push(at)
    for (const [service, at] of Object.entries(warm.ready)) (samples.warmReady[service] ??= []).push(at)
    for (const [owner, figures] of Object.entries(quiet.perService)) {
      const entry = (samples.perService[owner] ??= { cpu: [], rss: [], pss: [] })
      entry.cpu.push(figures.cpuPercent)
      entry.rss.push(figures.rssMiB)
      entry.pss.push(figures.pssMiB)
    }
    loads.push(load())
    console.log(
      `run ${run}: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms, down ${down1.toFixed(0)}/${down2.toFixed(0)} ms, ` +
        `idle ${quiet.cpuPercent.toFixed(2)}% of a core, RSS ${quiet.rssMiB.toFixed(0)} MiB, PSS ${quiet.pssMiB.toFixed(0)} MiB (${quiet.processes} processes); load ${loads.at(-1)}` +
        (project.notes.length ? `; ${project.notes.join(', ')}` : ''),
    )
  } finally {
    await teardown(project)
    current = undefined
  }
}

console.log('')
console.log(`medians over ${RUNS} runs (min–max)                 target`)
console.log(`cold up (initdb + seed → all healthy)  ${spread(samples.cold)} ms   < 3000 ms`)
console.log(`warm up (after down → all healthy)     ${spread(samples.warm)} ms   < 1000 ms`)
console.log(`down                                   ${spread(samples.down)} ms   < 500 ms`)
console.log(`any command (devenv status): node+CLI  ${spread(samples.cli)} ms`)
console.log(`idle CPU, % of one core                ${spread(samples.cpu, 2)}   < 2`)
console.log(`idle memory, sum of RSS, MiB           ${spread(samples.rss)}   < 250`)
console.log(`idle memory, sum of PSS, MiB           ${spread(samples.pss)}`)
console.log('')
console.log('"ready" line of each service, ms after `up` started:   cold        warm')
for (const service of SERVICES) {
  console.log(
    `  ${service.padEnd(6)} ${(samples.coldReady[service] ? spread(samples.coldReady[service]) : '-').padStart(28)} ${(samples.warmReady[service] ? spread(samples.warmReady[service]) : '-').padStart(22)}`,
  )
}
console.log(
  'psql, from its log (ms): ' +
    Object.entries(samples.psql)
      .map(([phase, list]) => `${phase} ${spread(list)}`)
      .join(', '),
)
console.log(
  '  (initdb: its run; seed: the seed files and the template copy; ready: prepare began → every database present)',
)
console.log('')
console.log('idle, per process tree:        CPU % of a core     RSS MiB      PSS MiB')
for (const [owner, figures] of Object.entries(samples.perService)) {
  console.log(
    `  ${owner.padEnd(18)} ${spread(figures.cpu, 2).padStart(20)} ${spread(figures.rss).padStart(14)} ${spread(figures.pss).padStart(12)}`,
  )
}
console.log('')
console.log(`load average (1, 5, 15 min) before and after each run: ${loads.join(' | ')}`)
