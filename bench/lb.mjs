#!/usr/bin/env node
// Load balancer benchmark: autocannon against (a) one backend directly, (b) the devenv lb over two
// backends, (c) HAProxy over the same two backends when it is installed. Loopback only.
// Run after a build:  node bench/lb.mjs [--duration 5] [--rounds 3] [--connections 32]
// Prints the median of the rounds for each target; rounds interleave the targets so that noise
// from a shared machine falls on all of them alike.
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { fileURLToPath } from 'node:url'
import autocannon from 'autocannon'

const root = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '1' },
    rate: { type: 'string', default: '1000' },
    // Another build of the lb's main.js (say, a copy of dist/boxes/lb from before a change), run in the same rounds.
    compare: { type: 'string' },
  },
})
const duration = Number(values.duration)
const rounds = Number(values.rounds)
const connections = Number(values.connections)
const warmup = Number(values.warmup)
/** Latency is measured at this fixed request rate: at saturation it only mirrors throughput (connections ÷ req/s). */
const rate = Number(values.rate)

const children = new Set()
const folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-bench-lb-'))
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL')
  rmSync(folder, { recursive: true, force: true })
})
process.on('SIGINT', () => process.exit(130))

function start(command, args, env, ready) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let output = ''
    const onData = (chunk) => {
      output += chunk
      if (ready.test(output)) {
        child.stdout.off('data', onData)
        child.stderr.off('data', onData)
        child.stdout.resume()
        child.stderr.resume()
        resolve(child)
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`${command} exited with ${code}: ${output}`)))
  })
}

async function freePort(address) {
  const server = net.createServer()
  await new Promise((resolve) => server.listen(0, address, resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function waitForPort(address, port) {
  for (let attempt = 0; attempt < 100; attempt++) {
    const open = await new Promise((resolve) => {
      const socket = net.connect({ host: address, port }, () => resolve(socket.destroy() || true))
      socket.on('error', () => resolve(false))
    })
    if (open) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listens on ${address}:${port}`)
}

/** CPU time (user + system, all threads) a process has used so far, in microseconds. */
function cpuMicros(pid) {
  if (!pid) return 0
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100
}

/**
 * Throughput and latency depend on what else the machine is doing; the proxy's CPU time per
 * request does much less, so it is reported too (for the process in front of the backends).
 */
function cannon(target, seconds, fixedRate) {
  const cpuBefore = cpuMicros(target.pid)
  const load = fixedRate ? { connections: 10, overallRate: fixedRate } : { connections }
  return new Promise((resolve, reject) => {
    autocannon({ url: target.url, ...load, duration: seconds, pipelining: 1 }, (error, result) => {
      if (error) return reject(error)
      if (result.non2xx || result.errors || result.timeouts)
        return reject(
          new Error(`${target.url}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`),
        )
      const cpu = target.pid ? (cpuMicros(target.pid) - cpuBefore) / result.requests.total : undefined
      resolve({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, cpu })
    })
  })
}

const median = (numbers) => {
  const sorted = [...numbers].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

const backend = path.join(root, 'test/fixtures/lb/backend.mjs')
const backends = []
for (const name of ['www1', 'www2']) {
  const port = await freePort('127.0.0.1')
  await start(process.execPath, [backend, name, '127.0.0.1', String(port)], {}, /listening/)
  backends.push({ name, port })
}

const targets = [{ name: 'direct (one backend)', url: `http://127.0.0.1:${backends[0].port}/bench` }]

const lbAddress = '127.0.77.1'
const lbPort = await freePort(lbAddress)
const lbConfig = path.join(folder, 'lb.json')
writeFileSync(
  lbConfig,
  JSON.stringify({
    service: 'lb',
    address: lbAddress,
    httpPort: lbPort,
    strategy: 'round-robin',
    backends: backends.map(({ name, port }) => ({
      name,
      address: '127.0.0.1',
      port,
      check: { kind: 'http', path: '/health', port },
    })),
    healthIntervalMs: 500,
    fall: 2,
    rise: 2,
    backendTimeoutMs: 60000,
  }),
)
const lb = await start(
  process.execPath,
  [path.join(root, 'dist/boxes/lb/main.js')],
  { DEVENV_BOX_CONFIG: lbConfig },
  /listening on/,
)
targets.push({ name: 'devenv lb (2 backends)', url: `http://${lbAddress}:${lbPort}/bench`, pid: lb.pid })
if (values.compare) {
  const comparePort = await freePort(lbAddress)
  const compareConfig = path.join(folder, 'lb-compare.json')
  writeFileSync(compareConfig, JSON.stringify({ ...JSON.parse(readFileSync(lbConfig, 'utf8')), httpPort: comparePort }))
  const other = await start(
    process.execPath,
    [path.resolve(values.compare)],
    { DEVENV_BOX_CONFIG: compareConfig },
    /listening on/,
  )
  targets.push({ name: `lb ${values.compare}`, url: `http://${lbAddress}:${comparePort}/bench`, pid: other.pid })
}

const haproxy = spawnSync('haproxy', ['-v'], { encoding: 'utf8' })
if (haproxy.status === 0) {
  const address = '127.0.78.1'
  const port = await freePort(address)
  const config = path.join(folder, 'haproxy.cfg')
  writeFileSync(
    config,
    [
      'global',
      '  maxconn 4096',
      'defaults',
      '  mode http',
      '  option http-keep-alive',
      '  timeout connect 5s',
      '  timeout client 60s',
      '  timeout server 60s',
      'frontend web',
      `  bind ${address}:${port}`,
      '  option forwardfor',
      '  default_backend apps',
      'backend apps',
      '  balance roundrobin',
      '  option httpchk GET /health',
      '  http-response set-header X-Devenv-Backend %s',
      ...backends.map(({ name, port: backendPort }) => `  server ${name} 127.0.0.1:${backendPort} check inter 500`),
      '',
    ].join('\n'),
  )
  const child = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] })
  children.add(child)
  await waitForPort(address, port)
  targets.push({
    name: `haproxy ${haproxy.stdout.match(/version ([\d.]+)/)?.[1] ?? ''} (2 backends)`.replace('  ', ' '),
    url: `http://${address}:${port}/bench`,
    pid: child.pid,
  })
} else {
  console.error('haproxy is not installed: skipping it (apt-get install -y haproxy)')
}

console.error(
  `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, node ${process.version}; ${connections} connections, ${duration} s × ${rounds} rounds, ${warmup} s warm-up each`,
)
const results = new Map(targets.map((target) => [target.name, []]))
for (let round = 0; round < rounds; round++) {
  for (const target of targets) {
    if (warmup > 0) await cannon(target, warmup)
    const result = await cannon(target, duration)
    const paced = await cannon(target, duration, rate)
    results.get(target.name).push({ ...result, p50: paced.p50, p99: paced.p99 })
    console.error(
      `  round ${round + 1} ${target.name}: ${Math.round(result.rps)} req/s (at saturation p50 ${result.p50} ms, p99 ${result.p99} ms), ` +
        `at ${rate} req/s p50 ${paced.p50} ms, p99 ${paced.p99} ms${result.cpu ? `, ${result.cpu.toFixed(1)} µs CPU/request` : ''}; load ${os.loadavg()[0].toFixed(1)}`,
    )
  }
}

const summary = targets.map(({ name }) => {
  const runs = results.get(name)
  const cpu = runs[0].cpu === undefined ? '' : median(runs.map((run) => run.cpu)).toFixed(1)
  return {
    name,
    rps: Math.round(median(runs.map((run) => run.rps))),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    cpu,
  }
})
const width = Math.max(...summary.map((row) => row.name.length))
console.log(`${'target'.padEnd(width)}  req/s (median)  p50 ms  p99 ms (at ${rate} req/s)  proxy CPU µs/req`)
for (const row of summary)
  console.log(
    `${row.name.padEnd(width)}  ${String(row.rps).padStart(14)}  ${String(row.p50).padStart(6)}  ${String(row.p99).padStart(20)}  ${row.cpu.padStart(16)}`,
  )
const [direct, balanced] = summary
const proxy = summary.find((row) => row.name.startsWith('haproxy'))
console.log(
  `load average ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}`,
)
console.log(
  `lb added p99 latency over direct at ${rate} req/s: ${(balanced.p99 - direct.p99).toFixed(2)} ms (target < 2 ms)`,
)
if (proxy) {
  console.log(`lb throughput vs haproxy: ${((balanced.rps / proxy.rps) * 100).toFixed(0)}% (target ≥ 60%)`)
  // Per round, so that both figures of a ratio come from the same moment of a shared machine.
  const ratios = results.get(balanced.name).map((run, round) => (run.rps / results.get(proxy.name)[round].rps) * 100)
  console.log(
    `  per round: ${ratios.map((ratio) => `${ratio.toFixed(0)}%`).join(', ')}; median ${median(ratios).toFixed(0)}%`,
  )
}
process.exit(0)
