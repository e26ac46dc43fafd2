#!/usr/bin/env node
// The postgres box through the real runtime and CLI, as a user runs it (./bin/devenv):
//   1. warm `devenv up` of the minimal template after `devenv down` (wall time of the command,
//      and the box's own part from the service log: prepare began → every database present);
//   2. `devenv db reset` of a database of 100 MB or more (wall time of the command), with the
//      background upkeep it leaves (old copy dropped, next spare cloned) timed apart.
// Run after a build: `npm run build && node bench/postgres-runtime.mjs`. ROWS=700000, RUNS=5.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const ROWS = Number(process.env.ROWS ?? 700_000)
const RUNS = Number(process.env.RUNS ?? 5)
const BIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'bin', 'devenv')

const base = mkdtempSync(path.join(os.tmpdir(), 'devenv-pg-rt-bench-'))
chmodSync(base, 0o755)
const env = {
  ...process.env,
  DEVENV_HOME: path.join(base, 'home'),
  DEVENV_HOSTS_FILE: path.join(base, 'hosts'),
  NO_COLOR: '1',
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => `${Math.round(value)} ms`
const projects = []

function devenv(cwd, ...args) {
  const started = performance.now()
  const stdout = execFileSync(BIN, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  return { ms: performance.now() - started, stdout }
}

/**
 * Address blocks are allocated per DEVENV_HOME, and this bench has its own home: give each project
 * a random block far from the low ones other homes on the machine hand out first.
 */
const blocks = {}
function project(name) {
  const root = path.join(base, name)
  execFileSync('mkdir', ['-p', root, env.DEVENV_HOME])
  projects.push(root)
  blocks[root] = { block: 2000 + Math.floor(Math.random() * 10000), services: {} }
  writeFileSync(path.join(env.DEVENV_HOME, 'addresses.json'), JSON.stringify(blocks))
  return root
}

/** The box's own part of the last start, from its log line. */
function boxReadyMs(root) {
  const lines = readFileSync(path.join(root, '.devenv', 'logs', 'db.log'), 'utf8').split('\n')
  const line = lines.reverse().find((entry) => entry.includes('ms after prepare began'))
  return line ? Number(/, (\d+) ms after prepare began/.exec(line)[1]) : Number.NaN
}

async function admin(root) {
  const status = JSON.parse(devenv(root, 'status', '--json').stdout).result
  const db = status.services.find((service) => service.name === 'db')
  const password = JSON.parse(
    readFileSync(path.join(root, '.devenv', 'services', 'db', 'data', 'superuser.json'), 'utf8'),
  ).password
  const port = db.ports[0].bound ?? db.ports[0].port
  const connect = async (database) => {
    const client = new pg.Client({ host: db.address, port, user: 'postgres', password, database })
    await client.connect()
    return client
  }
  return connect
}

/** Waits until the background upkeep is done: a spare ready and no copy left to drop. */
async function upkeepDone(connect, prefix) {
  const client = await connect('postgres')
  try {
    while (true) {
      const { rows } = await client.query('SELECT datname FROM pg_database WHERE starts_with(datname, $1)', [prefix])
      const names = rows.map((row) => row.datname)
      if (
        names.some((name) => name.includes('__spare_')) &&
        !names.some((name) => name.includes('__discard_') || name.includes('__incoming'))
      )
        return
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  } finally {
    await client.end()
  }
}

try {
  console.log(
    `load average at start: ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  )
  // 1. warm up of the minimal template
  const minimal = project('minimal')
  devenv(minimal, 'init')
  const first = devenv(minimal, 'up')
  console.log(`minimal template: first up ${ms(first.ms)}`)
  const cli = []
  for (let run = 0; run < RUNS; run++) cli.push(devenv(minimal, 'status').ms)
  const warm = []
  const box = []
  for (let run = 0; run < RUNS; run++) {
    devenv(minimal, 'down')
    warm.push(devenv(minimal, 'up').ms)
    box.push(boxReadyMs(minimal))
  }
  devenv(minimal, 'down')
  console.log(
    `warm \`devenv up\` (after down, until healthy), median of ${RUNS}: ${ms(median(warm))}  [${warm.map(ms).join(', ')}]`,
  )
  console.log(
    `  of which the box (prepare began → every database present): ${ms(median(box))}  [${box.map(ms).join(', ')}]`,
  )
  console.log(`  for scale, \`devenv status\` (CLI start, no supervisor spawned): ${ms(median(cli))}`)

  // 2. db reset of a 100+ MB database
  const big = project('big')
  writeFileSync(
    path.join(big, 'seed.sql'),
    `CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL, bucket integer NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 4), g % 1000 FROM generate_series(1, ${ROWS}) AS g;
CREATE INDEX big_bucket ON big (bucket);
`,
  )
  writeFileSync(
    path.join(big, 'devenv.yaml'),
    'name: pgbench\nservices:\n  db:\n    box: postgres\n    databases:\n      - name: bench\n        user: bench\n        password: bench\n        seed: [./seed.sql]\n',
  )
  const seeded = devenv(big, 'up')
  const connect = await admin(big)
  const sizeClient = await connect('postgres')
  const size = Number((await sizeClient.query("SELECT pg_database_size('bench') AS size")).rows[0].size)
  await sizeClient.end()
  console.log(`database of ${(size / 1024 / 1024).toFixed(0)} MB: first seeded up ${ms(seeded.ms)}`)
  if (!Number.isNaN(boxReadyMs(minimal))) await upkeepDone(connect, 'bench__')
  const resets = []
  const upkeep = []
  for (let run = 0; run < RUNS; run++) {
    const client = await connect('bench')
    await client.query('DELETE FROM big WHERE id % 10 = 0')
    await client.end()
    const reset = devenv(big, 'db', 'reset', 'db', '--json')
    resets.push(reset.ms)
    // (A build from before the spares existed has no upkeep to wait for.)
    if (!JSON.parse(reset.stdout).result.fromSpare) continue
    const started = performance.now()
    await upkeepDone(connect, 'bench__')
    upkeep.push(performance.now() - started)
  }
  const check = await connect('bench')
  const count = Number((await check.query('SELECT count(*) FROM big')).rows[0].count)
  await check.end()
  if (count !== ROWS) throw new Error(`after reset: ${count} rows, expected ${ROWS}`)
  console.log(
    `\`devenv db reset\` (wall time of the command), median of ${RUNS}: ${ms(median(resets))}  [${resets.map(ms).join(', ')}]`,
  )
  if (upkeep.length)
    console.log(`  background upkeep after it, until done: ${ms(median(upkeep))}  [${upkeep.map(ms).join(', ')}]`)
  const back = []
  for (let run = 0; run < 3; run++) back.push(devenv(big, 'db', 'reset', 'db').ms)
  console.log(`\`devenv db reset\` three times back to back (no wait for the upkeep): ${back.map(ms).join(', ')}`)
  console.log(
    `load average at end: ${os
      .loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  )
} finally {
  for (const root of projects) {
    try {
      execFileSync(BIN, ['down'], { cwd: root, env, stdio: 'ignore' })
    } catch {
      // already gone
    }
  }
  rmSync(base, { recursive: true, force: true })
}
