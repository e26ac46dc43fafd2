// `devenv snapshot save` / `devenv snapshot restore` of a real PostgreSQL database, through the
// CLI and the bundled runtime, against a logical dump and reload of the same database.
// Run after a build: node bench/snapshot-postgres.mjs [--runs 5] [--only small|large] [--breakdown]
// Sizes: 300,000 rows (~54 MB cluster) and ~1 GB. Prints medians (and min). Warm page cache.
//
// The baseline: Docker-based tools run `pg_dump -Fc` and `pg_restore`. The only pg_dump here is
// version 15, which refuses a version 17 server, and no 17 client can be installed; so the
// baseline is what pg_restore does for this database, through psql: COPY the table out, then
// drop it, create it, COPY it in and build its primary key. It skips pg_restore's
// decompression and archive parsing, so it is a lower bound of pg_restore's time.
import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1]) || 5
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const breakdown = args.includes('--breakdown')
const BIN = fileURLToPath(new URL('../bin/devenv', import.meta.url))
const PSQL = process.env.PSQL ?? '/usr/bin/psql'
const MB = 1024 * 1024

const base = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'devenv-bench-pg-'))
chmodSync(base, 0o755) // PostgreSQL runs unprivileged when we are root
const root = path.join(base, 'project')
const home = path.join(base, 'home')
const env = { ...process.env, DEVENV_HOME: home, DEVENV_HOSTS_FILE: path.join(base, 'hosts'), NO_COLOR: '1' }
mkdirSync(path.join(root), { recursive: true })
mkdirSync(home, { recursive: true })
writeFileSync(path.join(home, 'addresses.json'), JSON.stringify({ [root]: { block: 3000 + Math.floor(Math.random() * 30000), services: {} } }))
writeFileSync(path.join(root, 'devenv.yaml'), 'name: pgbench\nservices:\n  db:\n    box: postgres\n    databases:\n      - { name: bench, user: bench, password: bench }\n')

function devenv(...command) {
  return execFileSync(BIN, command, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MB })
}
let host
/** One psql session running each command in turn (a \\copy must be a command of its own). */
function psql(...commands) {
  return execFileSync(PSQL, ['-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-h', host, '-U', 'bench', '-d', 'bench', ...commands.flatMap((sql) => ['-c', sql])], {
    env: { ...env, PGPASSWORD: 'bench' },
    encoding: 'utf8',
    maxBuffer: 64 * MB,
  }).trim()
}
const timed = (work) => {
  const started = performance.now()
  const value = work()
  return [performance.now() - started, value]
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const s = (ms) => `${(ms / 1000).toFixed(2)} s`
const stats = (values) => `median ${s(median(values))} (min ${s(Math.min(...values))})`
const du = (folder) => Number(execFileSync('du', ['-sb', folder], { encoding: 'utf8' }).split('\t')[0])

const TABLE = 'CREATE TABLE items (id integer, name text NOT NULL, price numeric(10, 2) NOT NULL, note text NOT NULL)'
async function bench(label, rows, noteBytes, count) {
  psql('DROP TABLE IF EXISTS items')
  psql(`${TABLE}; INSERT INTO items SELECT n, 'item ' || n, (n % 1000) / 10.0, repeat(md5(n::text), ${noteBytes / 32}) FROM generate_series(1, ${rows}) AS n; ALTER TABLE items ADD PRIMARY KEY (id)`)
  const data = path.join(root, '.devenv', 'services', 'db', 'data')
  const load = () => os.loadavg().map((value) => value.toFixed(1)).join(' ')
  console.log(`\n${label}: ${rows} rows; database ${(Number(psql("SELECT pg_database_size('bench')")) / MB).toFixed(0)} MiB; data folder ${(du(data) / MB).toFixed(0)} MiB; load ${load()}`)
  const saves = []
  const restores = []
  const downtimes = []
  for (let run = 0; run < count; run++) {
    const [saveMs] = timed(() => devenv('snapshot', 'save', 'db', `run${run}`, '--json'))
    saves.push(saveMs)
    psql('DELETE FROM items WHERE id % 3 = 0') // something for the restore to undo
    const [restoreMs, out] = timed(() => devenv('snapshot', 'restore', 'db', `run${run}`, '--json'))
    restores.push(restoreMs)
    downtimes.push(JSON.parse(out).restored[0].downtimeMs)
    if (Number(psql('SELECT count(*) FROM items')) !== rows) throw new Error('the restore did not bring the rows back')
    devenv('snapshot', 'delete', 'db', `run${run}`)
  }
  console.log(`devenv snapshot save (CLI, wall)      ${stats(saves)}`)
  console.log(`devenv snapshot restore (CLI, wall)   ${stats(restores)}; service stopped ${stats(downtimes)}`)

  const dump = path.join(base, 'items.copy')
  const dumps = []
  const reloads = []
  for (let run = 0; run < count; run++) {
    dumps.push(timed(() => psql(`\\copy items TO '${dump}'`))[0])
    reloads.push(timed(() => psql('DROP TABLE items', TABLE, `\\copy items FROM '${dump}'`, 'ALTER TABLE items ADD PRIMARY KEY (id)'))[0])
    if (Number(psql('SELECT count(*) FROM items')) !== rows) throw new Error('the reload lost rows')
  }
  rmSync(dump, { force: true })
  console.log(`logical dump (psql COPY out)          ${stats(dumps)}`)
  console.log(`logical reload (COPY in + primary key) ${stats(reloads)}: restore is ${(median(reloads) / median(restores)).toFixed(1)}× faster`)
  console.log(`load average after: ${load()}`)
  if (breakdown) await pieces(data)
}

/** Where a restore's time goes: the copy, the hash, the fsync, the service stop/start (in-process, no CLI start-up). */
async function pieces(data) {
  const { copyTree, syncTree } = await import('../dist/snapshots/tree.js')
  const tries = 3
  const measure = async (label, work) => {
    const times = []
    for (let run = 0; run < tries; run++) {
      const target = path.join(base, `copy-${run}`)
      rmSync(target, { recursive: true, force: true })
      const started = performance.now()
      await work(target)
      times.push(performance.now() - started)
      rmSync(target, { recursive: true, force: true })
    }
    console.log(`  ${label.padEnd(44)} ${stats(times)}`)
  }
  devenv('stop', 'db')
  console.log('breakdown (in-process, service stopped):')
  await measure('copy', (target) => copyTree(data, target))
  await measure('copy + sha256 (one pass)', (target) => copyTree(data, target, { hash: true }))
  await measure('copy + sha256 + syncfs (what restore does)', (target) => copyTree(data, target, { hash: true, durable: true }))
  process.env.DEVENV_SNAPSHOT_FSYNC = 'each'
  await measure('copy + sha256 + fsync per file (before)', (target) => copyTree(data, target, { hash: true, durable: true }))
  delete process.env.DEVENV_SNAPSHOT_FSYNC
  const [startMs] = timed(() => devenv('up', 'db'))
  const [stopMs] = timed(() => devenv('stop', 'db'))
  const [cliMs] = timed(() => devenv('snapshot', 'list'))
  devenv('up', 'db')
  console.log(`  devenv up db ${s(startMs)}, devenv stop db ${s(stopMs)}, CLI start-up (devenv snapshot list) ${s(cliMs)}`)
}

try {
  console.log(`node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model}), ${os.platform()} ${os.release()}, ${new Date().toISOString()}`)
  devenv('up')
  host = JSON.parse(devenv('status', '--json')).services[0].address
  if (only !== 'large') await bench('300,000-row database', 300_000, 64, runs)
  if (only !== 'small') await bench('~1 GB database', 5_000_000, 128, Math.max(3, Math.ceil(runs / 2)))
} finally {
  let supervisor
  try {
    supervisor = JSON.parse(readFileSync(path.join(root, '.devenv', 'supervisor.json'), 'utf8')).pid
    devenv('down', '--no-hosts')
  } catch (error) {
    console.error(`devenv down failed: ${error.message}`)
  }
  // Never leave a supervisor behind, even when `down` failed.
  try {
    if (supervisor) process.kill(supervisor, 'SIGTERM')
  } catch {
    // already gone
  }
  rmSync(base, { recursive: true, force: true })
}
