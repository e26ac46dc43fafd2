#!/usr/bin/env node
// What a command costs before and around its work, on the webapp template (six services, running):
// `status`, `status --json`, `up` when already up, `--version` (oclif's floor), and `node -e 0` (any
// node process's floor), then warm `up` and `down` of the whole stack. `status` runs with the
// resolved envfile cached, as after any first command, and once more without it (as after an
// edit). `--against OTHER/bin/devenv` runs another build (e.g. `git archive` of an older commit,
// built) interleaved with this one, run for run, so both see the same machine load; with it each
// line gives both and their ratio.
// Run after a build:  node bench/cli-start.mjs [--runs 20] [--cycles 5] [--against OTHER/bin/devenv]
// Wall time and CPU (user+sys of the command's process tree, from the shell's `times`).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { benchProject, median } from './support/sandbox.mjs'

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    cycles: { type: 'string', default: '5' },
    against: { type: 'string' },
  },
})
const RUNS = Number(values.runs)
const CYCLES = Number(values.cycles)
const THIS = new URL('../bin/devenv', import.meta.url).pathname
const builds = values.against ? { before: path.resolve(values.against), after: THIS } : { this: THIS }

const { root, env, devenv, markUp } = benchProject('devenv-bench-cli-')
// Addresses are per machine home and start at 127.64.1.x: a random block keeps clear of test suites.
mkdirSync(env.DEVENV_HOME, { recursive: true })
writeFileSync(
  path.join(env.DEVENV_HOME, 'addresses.json'),
  JSON.stringify({ [root]: { block: 1000 + Math.floor(Math.random() * 39_000), services: {} } }),
  { flag: 'wx' },
)
mkdirSync(root, { recursive: true })
devenv('init', '--template', 'webapp')
// The template publishes www1/www2 on 127.0.0.1:81 and :82, which another stack on the machine may
// hold: free ports instead, so the bench runs beside others.
const freePort = () =>
  new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
const envfile = path.join(root, 'devenv.yaml')
writeFileSync(
  envfile,
  readFileSync(envfile, 'utf8')
    .replace('"81:8080"', `"127.0.0.1:${await freePort()}:8080"`)
    .replace('"82:8080"', `"127.0.0.1:${await freePort()}:8080"`),
)
// The resolved envfile the direct route keeps (a build without it has none to remove).
const resolvedCache = path.join(root, '.devenv', 'resolved-envfile.json')

function timed(args) {
  const started = process.hrtime.bigint()
  const result = spawnSync(
    '/bin/sh',
    ['-c', '"$@" >/dev/null 2>&1; status=$?; times >&2; exit $status', 'sh', ...args],
    {
      cwd: root,
      env,
      encoding: 'utf8',
    },
  )
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}:\n${result.stderr}`)
  const cpuMs = [
    ...result.stderr
      .trim()
      .split('\n')
      .at(-1)
      .matchAll(/(\d+)m([\d.]+)s/g),
  ].reduce((sum, match) => sum + (Number(match[1]) * 60 + Number(match[2])) * 1000, 0)
  return { ms, cpuMs }
}

const samples = {}
const record = (label, build, sample) => {
  samples[label] ??= {}
  ;(samples[label][build] ??= []).push(sample)
}

console.log(
  `load average before: ${os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
)
for (const bin of Object.values(builds)) timed([bin, 'up', '--no-hosts'])
markUp()
for (let run = 0; run < RUNS; run++) {
  for (const [build, bin] of Object.entries(builds)) {
    // The stack was started by the last build: status and a no-op up read it, whichever build asks.
    // First without the cache (as after an edit), which writes it again for the two after it.
    rmSync(resolvedCache, { force: true })
    record('status, envfile changed (no cache)', build, timed([bin, 'status']))
    record('status', build, timed([bin, 'status']))
    record('status --json', build, timed([bin, 'status', '--json']))
    record('--version', build, timed([bin, '--version']))
  }
  record('node -e 0', 'node', timed([process.execPath, '-e', '0']))
}
for (let cycle = 0; cycle < CYCLES; cycle++) {
  for (const [build, bin] of Object.entries(builds)) {
    // A supervisor of the other build would be replaced on `up`: each build downs and ups its own.
    timed([bin, 'up', '--no-hosts'])
    record('up, already up', build, timed([bin, 'up', '--no-hosts']))
    record('down', build, timed([bin, 'down', '--no-hosts']))
    record('up, warm (stopped, data kept)', build, timed([bin, 'up', '--no-hosts']))
  }
}
timed([THIS, 'down', '--no-hosts'])
console.log(
  `load average after: ${os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
)

const show = (list) =>
  `${median(list.map((sample) => sample.ms)).toFixed(0)} ms (CPU ${median(list.map((sample) => sample.cpuMs)).toFixed(0)} ms)`
for (const [label, byBuild] of Object.entries(samples)) {
  const parts = Object.entries(byBuild).map(([build, list]) => `${build} ${show(list)}`)
  const { before, after } = byBuild
  const ratio =
    before && after
      ? `  ×${(median(before.map((sample) => sample.ms)) / median(after.map((sample) => sample.ms))).toFixed(2)}`
      : ''
  console.log(`${label.padEnd(32)} ${parts.join('   ')}${ratio}`)
}
