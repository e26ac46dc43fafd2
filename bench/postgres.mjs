#!/usr/bin/env node
// The postgres box, timed through its driver: first seeded boot, warm boot, and `db reset` of
// a database of 100 MB or more (the CLI and the runtime around it: bench/postgres-runtime.mjs). Run after a build: `npx tsc -p tsconfig.build.json && node bench/postgres.mjs`.
// ROWS=700000 sets the size of the generated table (≈ 170 bytes a row).
import { spawn } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { postgresDriver, serverTarget } from '../dist/boxes/postgres/driver.js'
import { connect } from '../dist/boxes/postgres/connection.js'
import { resetDatabase } from '../dist/boxes/postgres/databases.js'
import { maintain } from '../dist/boxes/postgres/maintenance.js'
import { ensureServiceUser } from '../dist/runtime/bundled/users.js'

const ROWS = Number(process.env.ROWS ?? 700_000)
const RUNS = Number(process.env.RUNS ?? 5)

const root = mkdtempSync(path.join(os.tmpdir(), 'devenv-pg-bench-'))
chmodSync(root, 0o755)
const seedFile = path.join(root, 'seed.sql')
writeFileSync(
  seedFile,
  `CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL, bucket integer NOT NULL);
INSERT INTO big SELECT g, repeat(md5(g::text), 4), g % 1000 FROM generate_series(1, ${ROWS}) AS g;
CREATE INDEX big_bucket ON big (bucket);
`,
)
const database = { name: 'bench', user: 'bench', password: 'bench', seed: [seedFile] }
const address = '127.77.0.250'
const port = await freePort(address)
const logs = []
const context = {
  project: { name: 'bench', root },
  service: { name: 'db', kind: 'postgres', postgres: { port: 5432, databases: [database], settings: {} } },
  address,
  port: () => port,
  dataDir: path.join(root, 'data'),
  runDir: path.join(root, 'run'),
  machineHome: path.join(root, 'home'),
  env: {},
  log: (line) => logs.push(line),
  endpoint: () => {
    throw new Error('none')
  },
  runAs: process.getuid() === 0 ? ensureServiceUser() : undefined,
  signal: new AbortController().signal,
}
mkdirSync(context.dataDir, { recursive: true })

let child
async function boot() {
  const started = performance.now()
  await postgresDriver.prepare(context)
  const launch = await postgresDriver.launch(context)
  child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    uid: launch.uid,
    gid: launch.gid,
    detached: true,
    stdio: 'ignore',
  })
  await postgresDriver.initialise(context)
  while (!(await postgresDriver.probe(context)).ok) await sleep(10)
  return performance.now() - started
}
async function shutdown() {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  process.kill(-child.pid, 'SIGINT')
  await exited
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ms = (value) => `${Math.round(value)} ms`

try {
  const first = await boot()
  const target = serverTarget(context)
  const admin = await connect(target, 'postgres')
  const size = Number((await admin.query("SELECT pg_database_size('bench') AS size")).rows[0].size)
  console.log(`database size: ${(size / 1024 / 1024).toFixed(0)} MB (${ROWS} rows)`)
  console.log(`first seeded boot (initdb + seed + template + clone): ${ms(first)}`)
  await admin.end()
  await shutdown()

  const warm = []
  for (let run = 0; run < RUNS; run++) {
    warm.push(await boot())
    if (run < RUNS - 1) await shutdown()
  }
  console.log(
    `warm boot (prepare → accepting connections, every database present), median of ${RUNS}: ${ms(median(warm))}  [${warm.map(ms).join(', ')}]`,
  )

  // The spare is cloned in the background after the first seeding; wait for it as a user would.
  await maintain(target, context.dataDir)
  const resets = []
  const upkeep = []
  const slow = []
  const dirty = async () => {
    const client = await connect(target, 'bench')
    await client.query('DELETE FROM big WHERE id % 10 = 0')
    await client.end()
  }
  const timedReset = async () => {
    const started = performance.now()
    const outcome = await resetDatabase(target, context.dataDir, database, { reseed: false, log: () => {} })
    if (outcome.action !== 'cloned') throw new Error(`reset replayed the seeds (${outcome.action})`)
    return { ms: performance.now() - started, outcome }
  }
  for (let run = 0; run < RUNS; run++) {
    await dirty()
    const { ms: took, outcome } = await timedReset()
    if (!outcome.fromSpare) throw new Error('the spare was not used')
    resets.push(took)
    const started = performance.now()
    await maintain(target, context.dataDir)
    upkeep.push(performance.now() - started)
  }
  // Back to back: the spare is gone and not made again yet, so the reset clones the template itself.
  const admin1 = await connect(target, 'postgres')
  for (let run = 0; run < RUNS; run++) {
    await dirty()
    for (const { datname } of (
      await admin1.query("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_\\_spare\\_%'")
    ).rows)
      await admin1.query(`DROP DATABASE "${datname}"`)
    const { ms: took, outcome } = await timedReset()
    if (outcome.fromSpare) throw new Error('a spare was used')
    slow.push(took)
    await maintain(target, context.dataDir)
  }
  await admin1.end()
  const check = await connect(target, 'bench')
  const count = Number((await check.query('SELECT count(*) FROM big')).rows[0].count)
  await check.end()
  if (count !== ROWS) throw new Error(`after reset: ${count} rows, expected ${ROWS}`)
  console.log(
    `db reset, spare ready (swap by renames), median of ${RUNS}: ${ms(median(resets))}  [${resets.map(ms).join(', ')}]`,
  )
  console.log(
    `  then background upkeep (drop the old copy, clone the next spare), median of ${RUNS}: ${ms(median(upkeep))}  [${upkeep.map(ms).join(', ')}]`,
  )
  console.log(
    `db reset, no spare (clone the template, then swap), median of ${RUNS}: ${ms(median(slow))}  [${slow.map(ms).join(', ')}]`,
  )

  // Which CREATE DATABASE strategy clones the template faster while the user's database has
  // unwritten changes (FILE_COPY's checkpoints write them out), and how long a drop takes.
  const admin2 = await connect(target, 'postgres')
  const template = (await admin2.query("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_\\_seed\\_%'"))
    .rows[0].datname
  for (const strategy of ['FILE_COPY', 'WAL_LOG']) {
    const clones = []
    const drops = []
    for (let run = 0; run < 3; run++) {
      await dirty()
      let started = performance.now()
      await admin2.query(`CREATE DATABASE strategy_probe TEMPLATE "${template}" STRATEGY ${strategy}`)
      clones.push(performance.now() - started)
      const probe = await connect(target, 'strategy_probe')
      await probe.query('DELETE FROM big WHERE id % 10 = 0')
      await probe.end()
      started = performance.now()
      await admin2.query('DROP DATABASE strategy_probe')
      drops.push(performance.now() - started)
      await resetDatabase(target, context.dataDir, database, { reseed: false, log: () => {} })
      await maintain(target, context.dataDir)
    }
    console.log(
      `STRATEGY ${strategy}, median of 3: clone (user's database dirty) ${ms(median(clones))}, drop of a changed clone ${ms(median(drops))}  [clone ${clones.map(ms).join(', ')}; drop ${drops.map(ms).join(', ')}]`,
    )
  }
  await admin2.end()
} finally {
  if (child && child.exitCode === null) await shutdown().catch(() => {})
  rmSync(root, { recursive: true, force: true })
}

function sleep(delay) {
  return new Promise((resolve) => setTimeout(resolve, delay))
}
function freePort(host) {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, host, () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}
