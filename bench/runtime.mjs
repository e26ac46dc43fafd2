#!/usr/bin/env node
// Bundled runtime benchmark: a generated project of N process services (a tiny node HTTP server
// each, tcp health check), driven through the built CLI (./bin/devenv) as a user would.
// Run after a build:  node bench/runtime.mjs [--services 10] [--rounds 7] [--idle 20] [--bin OTHER/bin/devenv]
// Measures medians of: warm `up` until all healthy (supervisor gone, nothing to build), `up` when
// already up, `status`, `down`; then the idle supervisor's CPU (utime+stime over --idle seconds, as
// % of one core) and RSS. Also times `devenv --version` and `node -e 0`, the floor any command pays.
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: {
    bin: { type: 'string', default: path.join(repo, 'bin', 'devenv') },
    services: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '7' },
    idle: { type: 'string', default: '20' },
  },
})
const serviceCount = Number(values.services)
const rounds = Number(values.rounds)
const idleSeconds = Number(values.idle)
/** Another build to measure (e.g. a copy of the package with an experiment in its dist/). */
const bin = path.resolve(values.bin)

const base = mkdtempSync(path.join(os.tmpdir(), 'devenv-bench-runtime-'))
const project = path.join(base, 'project')
const env = {
  ...process.env,
  DEVENV_HOME: path.join(base, 'home'),
  DEVENV_HOSTS_FILE: path.join(base, 'hosts'),
  NO_COLOR: '1',
}
let cleaned = false
const cleanup = () => {
  if (cleaned) return
  cleaned = true
  spawnSync(bin, ['down', '--no-hosts'], { cwd: project, env, stdio: 'ignore' })
  for (const pid of projectProcesses()) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  rmSync(base, { recursive: true, force: true })
}
process.on('exit', cleanup)
process.on('SIGINT', () => process.exit(130))

mkdirSync(project, { recursive: true })
// Allocations are per machine home and start at 127.64.1.x: a random block keeps this run clear of
// test suites running at the same time with homes of their own.
mkdirSync(env.DEVENV_HOME, { recursive: true })
writeFileSync(
  path.join(env.DEVENV_HOME, 'addresses.json'),
  JSON.stringify({ [project]: { block: 1000 + Math.floor(Math.random() * 39_000), services: {} } }),
)
writeFileSync(
  path.join(project, 'server.mjs'),
  `import http from 'node:http'
http.createServer((q, s) => s.end(process.env.DEVENV_SERVICE)).listen(Number(process.env.PORT), process.env.HOST)
process.on('SIGTERM', () => process.exit(0))
`,
)
const services = Array.from(
  { length: serviceCount },
  (_, index) => `  s${index + 1}:\n    command: node server.mjs\n    ports: [8080]\n    health: { tcp: 8080 }\n`,
)
writeFileSync(path.join(project, 'devenv.yaml'), `name: bench-runtime\nservices:\n${services.join('')}`)

/**
 * Runs the CLI; returns wall and CPU milliseconds (the CLI process's own user+sys, from the shell's
 * `times`: on a loaded machine CPU time says what the command costs, wall time what it waited).
 * Throws on a non-zero exit.
 */
function devenv(args) {
  const started = process.hrtime.bigint()
  const result = spawnSync('/bin/sh', ['-c', '"$@"; status=$?; times >&2; exit $status', 'sh', bin, ...args], {
    cwd: project,
    env,
    encoding: 'utf8',
  })
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`devenv ${args.join(' ')} exited ${result.status}:\n${result.stderr}`)
  const children = result.stderr.trim().split('\n').at(-1)
  const cpuMs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].reduce(
    (sum, match) => sum + (Number(match[1]) * 60 + Number(match[2])) * 1000,
    0,
  )
  return { ms, cpuMs, stdout: result.stdout }
}

function time(command, args) {
  const started = process.hrtime.bigint()
  const result = spawnSync(command, args, { cwd: project, env, stdio: 'ignore' })
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.status}`)
  return Number(process.hrtime.bigint() - started) / 1e6
}

function projectProcesses() {
  const pids = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`)
      if (cwd === project || cwd.startsWith(`${project}/`)) pids.push(Number(entry))
    } catch {
      // already gone
    }
  }
  return pids
}

function status() {
  return JSON.parse(devenv(['status', '--json']).stdout).result
}

function assertAllHealthy() {
  const current = status()
  const notReady = current.services.filter((service) => service.state !== 'running' || service.health !== 'healthy')
  if (notReady.length || current.services.length !== serviceCount)
    throw new Error(`not all healthy: ${JSON.stringify(notReady)}`)
  return current
}

const median = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}
const fmt = (ms) => `${ms.toFixed(0)} ms`
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')

const cpuTicks = (pid) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return Number(fields[11]) + Number(fields[12]) // utime + stime (fields 14 and 15)
}
const rssKiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1])
const clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100

const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown'
console.log(
  `devenv runtime benchmark: ${serviceCount} process services, ${rounds} rounds, node ${process.version}, ${bin}`,
)
console.log(`machine: ${os.cpus().length} cores (${cpuModel}), load average at start ${load()}`)

// Cold run first: the first `up` of a project (the supervisor is spawned, addresses are allocated).
const cold = devenv(['up']).ms
assertAllHealthy()
devenv(['down'])

const samples = { floorNode: [], floorCli: [], upWarm: [], upAgain: [], status: [], down: [] }
const cpu = { upCli: [], upSupervisor: [], upServices: [], upAgain: [], status: [], down: [] }
for (let round = 0; round < rounds; round++) {
  samples.floorNode.push(time(process.execPath, ['-e', '0']))
  samples.floorCli.push(time(bin, ['--version']))
  const up = devenv(['up'])
  samples.upWarm.push(up.ms)
  cpu.upCli.push(up.cpuMs)
  const healthy = assertAllHealthy()
  // The supervisor is new with each warm up: its CPU so far is what starting it and the services cost it.
  cpu.upSupervisor.push((cpuTicks(healthy.supervisor.pid) / clockTicks) * 1000)
  cpu.upServices.push(
    ((healthy.services.reduce((sum, entry) => sum + cpuTicks(entry.pid), 0) / clockTicks) * 1000) /
      healthy.services.length,
  )
  for (const [key, args] of [
    ['upAgain', ['up']],
    ['status', ['status']],
    ['down', ['down']],
  ]) {
    const run = devenv(args)
    samples[key].push(run.ms)
    cpu[key].push(run.cpuMs)
  }
  if (projectProcesses().length) throw new Error(`down left processes behind: ${projectProcesses().join(', ')}`)
}

// Idle supervisor: everything healthy, nothing asked of it; health checks keep running.
devenv(['up'])
const { supervisor } = assertAllHealthy()
await new Promise((resolve) => setTimeout(resolve, 2000))
const before = cpuTicks(supervisor.pid)
const idleStarted = process.hrtime.bigint()
await new Promise((resolve) => setTimeout(resolve, idleSeconds * 1000))
const idleMs = Number(process.hrtime.bigint() - idleStarted) / 1e6
const idleCpu = ((cpuTicks(supervisor.pid) - before) / clockTicks / (idleMs / 1000)) * 100
const rss = rssKiB(supervisor.pid)
devenv(['down'])

const rows = [
  ['node -e 0 (floor)', median(samples.floorNode), undefined],
  ['devenv --version (CLI floor)', median(samples.floorCli), undefined],
  [`up, cold (first run, 1 sample)`, cold, undefined],
  [`up, warm, ${serviceCount} services until all healthy`, median(samples.upWarm), 1000],
  ['up, already up', median(samples.upAgain), undefined],
  ['status', median(samples.status), 300],
  ['down', median(samples.down), 500],
]
console.log('')
for (const [label, ms, target] of rows) {
  console.log(
    `${label.padEnd(44)} ${fmt(ms).padStart(8)}${target ? `   target < ${target} ms ${ms < target ? 'ok' : 'MISSED'}` : ''}`,
  )
}
console.log('\nCPU time (medians, load-independent): where the work is')
console.log(`${'up: the CLI process'.padEnd(44)} ${fmt(median(cpu.upCli)).padStart(8)}`)
console.log(`${'up: the new supervisor (start + 10 services)'.padEnd(44)} ${fmt(median(cpu.upSupervisor)).padStart(8)}`)
console.log(`${'up: each service process (node server.mjs)'.padEnd(44)} ${fmt(median(cpu.upServices)).padStart(8)}`)
console.log(`${'up, already up: the CLI process'.padEnd(44)} ${fmt(median(cpu.upAgain)).padStart(8)}`)
console.log(`${'status: the CLI process'.padEnd(44)} ${fmt(median(cpu.status)).padStart(8)}`)
console.log(`${'down: the CLI process'.padEnd(44)} ${fmt(median(cpu.down)).padStart(8)}`)
console.log('')
console.log(
  `${'idle supervisor CPU'.padEnd(44)} ${`${idleCpu.toFixed(2)} %`.padStart(8)}   target < 1 % of a core ${idleCpu < 1 ? 'ok' : 'MISSED'} (over ${idleSeconds} s)`,
)
console.log(`${'idle supervisor RSS'.padEnd(44)} ${`${(rss / 1024).toFixed(1)} MiB`.padStart(8)}`)
const rounded = (table) =>
  JSON.stringify(
    Object.fromEntries(Object.entries(table).map(([key, list]) => [key, list.map((value) => Math.round(value))])),
  )
console.log(`\nall wall samples (ms): ${rounded(samples)}`)
console.log(`all CPU samples (ms): ${rounded(cpu)}`)
console.log(`load average at end ${load()}`)
