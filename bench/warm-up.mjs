#!/usr/bin/env node
// Where a warm `up` of the webapp template (six services, stopped with data kept) spends its time
// and CPU: the wall time until every service is healthy, and the CPU (user+sys, ms) each process
// of the stack used to get there, read from /proc as `up` returns (the CLI's from its own rusage).
// `--against OTHER/bin/devenv` runs another build interleaved with this one, run for run, on two
// projects of its own, so both see the same load; each line then gives both.
// Run after a build:  node bench/warm-up.mjs [--runs 7] [--against OTHER/bin/devenv]
import { execFileSync, spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { benchProject, median, sleep } from './support/sandbox.mjs'

const { values } = parseArgs({ options: { runs: { type: 'string', default: '7' }, against: { type: 'string' } } })
const RUNS = Number(values.runs)
const THIS = new URL('../bin/devenv', import.meta.url).pathname
const builds = values.against ? { before: path.resolve(values.against), after: THIS } : { this: THIS }
const TICK_MS = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim())

function project(bin, prefix) {
  const { root, env, markUp } = benchProject(prefix)
  const run = (...args) =>
    execFileSync(bin, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  execFileSync('mkdir', ['-p', root])
  // A block of addresses of its own, clear of other stacks and test suites on this machine.
  execFileSync('mkdir', ['-p', env.DEVENV_HOME])
  writeFileSync(
    path.join(env.DEVENV_HOME, 'addresses.json'),
    JSON.stringify({ [root]: { block: 1000 + Math.floor(Math.random() * 39_000), services: {} } }),
  )
  run('init', '--template', 'webapp')
  try {
    run('up', '--no-hosts')
  } catch (error) {
    // A failed up (a port another stack holds) leaves the services that did start running.
    spawnSync(bin, ['down', '--no-hosts'], { cwd: root, env, stdio: 'ignore' })
    throw error
  }
  markUp()
  run('down', '--no-hosts')
  return { bin, root, env, run, markUp }
}

/** Every live process below `pid`, with its name and CPU so far. */
function tree(pid) {
  const children = new Map()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      const parent = Number(fields[1])
      const cpu = (Number(fields[11]) + Number(fields[12])) * TICK_MS
      const name = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').filter(Boolean)
      const list = children.get(parent) ?? []
      list.push({ pid: Number(entry), cpu, name })
      children.set(parent, list)
    } catch {
      // gone meanwhile
    }
  }
  const found = []
  const visit = (parent) => {
    for (const child of children.get(parent) ?? []) {
      found.push(child)
      visit(child.pid)
    }
  }
  const supervisor = { pid, cpu: 0, name: ['supervisor'] }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    supervisor.cpu = (Number(fields[11]) + Number(fields[12])) * TICK_MS
  } catch {
    // none
  }
  visit(pid)
  return [supervisor, ...found]
}

function label(name) {
  const joined = name.join(' ')
  if (joined === 'supervisor') return 'supervisor'
  const box = joined.match(/boxes[-/](\w+)[-/]main/)
  if (box) return box[1]
  if (joined.includes('server.cjs')) return 'www (node app)'
  if (joined.includes('postgres')) return 'postgres'
  return undefined
}

function warmUp(stack) {
  stack.run('down', '--no-hosts')
  spawnSync('sync')
  const started = process.hrtime.bigint()
  const result = spawnSync('sh', ['-c', `"${stack.bin}" up --no-hosts >/dev/null 2>&1; times`], {
    cwd: stack.root,
    env: stack.env,
    encoding: 'utf8',
  })
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`up failed: ${result.stderr}`)
  // `times`: the shell's own line, then its children's (the CLI): "0m0.150s 0m0.030s".
  const [user, sys] = result.stdout
    .trim()
    .split('\n')
    .at(-1)
    .split(' ')
    .map((t) => {
      const [m, s] = t.replace('s', '').split('m')
      return (Number(m) * 60 + Number(s)) * 1000
    })
  const supervisor = JSON.parse(readFileSync(path.join(stack.root, '.devenv', 'supervisor.json'), 'utf8')).pid
  const cpu = { CLI: user + sys }
  for (const process of tree(supervisor)) {
    const name = label(process.name)
    if (name) cpu[name] = (cpu[name] ?? 0) + process.cpu
  }
  cpu.total = Object.values(cpu).reduce((sum, value) => sum + value, 0)
  return { wallMs, cpu }
}

const stacks = Object.fromEntries(
  Object.entries(builds).map(([name, bin]) => [name, project(bin, `devenv-bench-warm-${name}-`)]),
)
const results = Object.fromEntries(Object.keys(builds).map((name) => [name, []]))
try {
  for (let run = 0; run < RUNS; run++) {
    for (const name of Object.keys(builds)) {
      results[name].push(warmUp(stacks[name]))
      stacks[name].run('down', '--no-hosts')
      await sleep(500)
    }
  }
} finally {
  for (const stack of Object.values(stacks))
    spawnSync(stack.bin, ['down', '--no-hosts'], { cwd: stack.root, env: stack.env, stdio: 'ignore' })
}
const keys = [...new Set(Object.values(results).flatMap((list) => list.flatMap((r) => Object.keys(r.cpu))))]
const names = Object.keys(builds)
console.log(
  `warm up of the webapp template, ${RUNS} runs per build, interleaved; ${os.cpus().length} × ${os.cpus()[0]?.model}; load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}; ${new Date().toISOString()}`,
)
console.log(`| | ${names.join(' | ')} |`)
console.log(`| --- | ${names.map(() => '---').join(' | ')} |`)
console.log(
  `| wall, until all healthy (ms) | ${names.map((n) => median(results[n].map((r) => r.wallMs)).toFixed(0)).join(' | ')} |`,
)
for (const key of keys)
  console.log(
    `| CPU ms: ${key} | ${names.map((n) => median(results[n].map((r) => r.cpu[key] ?? 0)).toFixed(0)).join(' | ')} |`,
  )
console.log(
  `wall per run: ${names.map((n) => `${n} ${results[n].map((r) => r.wallMs.toFixed(0)).join(' ')}`).join('; ')}`,
)
