// `devenv snapshot save` / `devenv snapshot restore` of a real PostgreSQL database, through the
// CLI and the bundled runtime, against `pg_dump -Fc` / `pg_restore` of the same database.
// Run after a build: node bench/snapshot-postgres.mjs [--runs 5] [--only small|large] [--no-settle] [--breakdown]
// Sizes: 300,000 rows (~54 MB cluster) and ~1 GB. Prints medians (and min). Warm page cache.
//
// devenv: restore of the snapshot just saved (save run<N>, delete rows, restore run<N>) and
// restore of an older one (`older`, saved before every run<N>), timed separately.
//
// The baseline is what Docker-based tools (DDEV, Lando...) do: keep a `pg_dump -Fc` archive,
// and to restore, drop and recreate the database, then `pg_restore --no-owner` into it.
// devenv's server is PostgreSQL 17 and the only pg_dump here is 15 (PG15_BIN, default
// /usr/lib/postgresql/15/bin), which refuses a newer server; so the bench starts a throwaway
// PostgreSQL 15 cluster (unix socket only, in the bench folder), loads the same rows there and
// dumps them with pg_dump 15, then pg_restore 15 restores the archive into a scratch database
// (bench_restore) of devenv's own PostgreSQL 17 server, with one job and with two. Without
// PostgreSQL 15 the bench falls back to a psql COPY reload (COPY the table out; drop it, create
// it, COPY it in, build its primary key), a lower bound of pg_restore's time, and says so.
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1]) || 5
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const breakdown = args.includes('--breakdown')
const noSettle = args.includes('--no-settle')
const BIN = fileURLToPath(new URL('../bin/devenv', import.meta.url))
const PSQL = process.env.PSQL ?? '/usr/bin/psql'
const PG15_BIN = process.env.PG15_BIN ?? '/usr/lib/postgresql/15/bin'
const PG15_TOOLS = ['initdb', 'pg_ctl', 'postgres', 'pg_dump', 'pg_restore', 'psql']
const pg15Found = PG15_TOOLS.every((tool) => existsSync(path.join(PG15_BIN, tool)))
const MB = 1024 * 1024

const base = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'devenv-bench-pg-'))
chmodSync(base, 0o755) // PostgreSQL runs unprivileged when we are root
const root = path.join(base, 'project')
const home = path.join(base, 'home')
const env = { ...process.env, DEVENV_HOME: home, DEVENV_HOSTS_FILE: path.join(base, 'hosts'), NO_COLOR: '1' }
mkdirSync(path.join(root), { recursive: true })
mkdirSync(home, { recursive: true })
writeFileSync(
  path.join(home, 'addresses.json'),
  JSON.stringify({ [root]: { block: 3000 + Math.floor(Math.random() * 30000), services: {} } }),
)
writeFileSync(
  path.join(root, 'devenv.yaml'),
  'name: pgbench\nservices:\n  db:\n    box: postgres\n    databases:\n      - { name: bench, user: bench, password: bench }\n',
)
const data = path.join(root, '.devenv', 'services', 'db', 'data')

function devenv(...command) {
  return execFileSync(BIN, command, {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * MB,
  })
}
let host
/**
 * One psql session running each command in turn (a \\copy must be a command of its own).
 * `to` names the server (host, port), role, password and database, and which psql to run.
 */
function sql(to, ...commands) {
  const target = [...(to.host ? ['-h', to.host] : []), ...(to.port ? ['-p', String(to.port)] : [])]
  return execFileSync(
    to.psql ?? PSQL,
    [
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      ...target,
      '-U',
      to.user,
      '-d',
      to.db,
      ...commands.flatMap((text) => ['-c', text]),
    ],
    {
      env: { ...env, ...(to.password ? { PGPASSWORD: to.password } : {}) },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * MB,
    },
  ).trim()
}
const benchDb = () => ({ host, user: 'bench', password: 'bench', db: 'bench' })
const psql = (...commands) => sql(benchDb(), ...commands)
const timed = (work) => {
  const started = performance.now()
  const value = work()
  return [performance.now() - started, value]
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const s = (ms) => `${(ms / 1000).toFixed(2)} s`
const stats = (values) => `median ${s(median(values))} (min ${s(Math.min(...values))})`
const du = (folder) => Number(execFileSync('du', ['-sb', folder], { encoding: 'utf8' }).split('\t')[0])
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(1))
    .join(' ')
const faster = (baseline, ours) => `${(baseline / ours).toFixed(1)}×`
const stderrOf = (error) => String(error?.stderr ?? '').trim() || error?.message

/**
 * After a snapshot command, devenv's PostgreSQL box may leave a detached upkeep process
 * (maintenance-main.js) preparing the ready copy the next restore swaps in. A user who saves,
 * works and restores gives it that time; the bench waits for it (up to 5 min) so that it does
 * not run under the next timed command, and reports how long it took. --no-settle: do not wait.
 * Returns the wait in ms, or undefined when there is no such process (or none was looked for).
 */
function settle() {
  const busy = () => {
    try {
      return readdirSync('/proc').some((pid) => {
        if (!/^[0-9]+$/.test(pid)) return false
        try {
          const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
          return command.includes('maintenance-main') && command.includes(data)
        } catch {
          return false // gone meanwhile
        }
      })
    } catch {
      return false // no /proc
    }
  }
  if (noSettle) return undefined
  const started = performance.now()
  if (!busy()) return undefined
  while (busy()) {
    if (performance.now() - started > 300_000) throw new Error('the background upkeep ran for more than 5 minutes')
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
  }
  return performance.now() - started
}

const TABLE = 'CREATE TABLE items (id integer, name text NOT NULL, price numeric(10, 2) NOT NULL, note text NOT NULL)'
/** The rows of each size; the same SQL for devenv's server and for the PostgreSQL 15 one. */
const loadItems = (rows, noteBytes) => [
  'DROP TABLE IF EXISTS items',
  `${TABLE}; INSERT INTO items SELECT n, 'item ' || n, (n % 1000) / 10.0, repeat(md5(n::text), ${noteBytes / 32}) FROM generate_series(1, ${rows}) AS n; ALTER TABLE items ADD PRIMARY KEY (id)`,
]

async function bench(label, rows, noteBytes, count) {
  for (const command of loadItems(rows, noteBytes)) psql(command)
  console.log(
    `\n${label}: ${rows} rows; database ${(Number(psql("SELECT pg_database_size('bench')")) / MB).toFixed(0)} MiB; data folder ${(du(data) / MB).toFixed(0)} MiB; load ${load()}`,
  )
  const checkRows = (what) => {
    if (Number(psql('SELECT count(*) FROM items')) !== rows) throw new Error(`${what} did not bring the rows back`)
  }
  /** One restore through the CLI: wall time, and what its JSON says (the service's downtime, whether a ready copy was used). */
  const restore = (name, into) => {
    const [ms, out] = timed(() => devenv('snapshot', 'restore', 'db', name, '--json'))
    into.wall.push(ms)
    try {
      const result = JSON.parse(out).result?.restored?.[0] ?? {}
      if (typeof result.downtimeMs === 'number') into.down.push(result.downtimeMs)
      if (typeof result.fromSpare === 'boolean') into.fromSpare.push(result.fromSpare)
    } catch {
      // the JSON output is not this bench's concern
    }
  }
  const saves = []
  const upkeep = []
  const latest = { wall: [], down: [], fromSpare: [] }
  const older = { wall: [], down: [], fromSpare: [] }
  const settled = () => {
    const waited = settle()
    if (waited !== undefined) upkeep.push(waited)
  }
  // `older` is saved before any run<N>: restoring it is a restore of a snapshot that is neither
  // the newest one saved nor the last one restored.
  devenv('snapshot', 'save', 'db', 'older', '--json')
  settled()
  for (let run = 0; run < count; run++) {
    saves.push(timed(() => devenv('snapshot', 'save', 'db', `run${run}`, '--json'))[0])
    settled()
    psql('DELETE FROM items WHERE id % 3 = 0') // something for the restore to undo
    restore(`run${run}`, latest)
    checkRows(`restore of run${run}`)
    settled()
    psql('DELETE FROM items WHERE id % 3 = 1')
    restore('older', older)
    checkRows('restore of older')
    settled()
    devenv('snapshot', 'delete', 'db', `run${run}`)
    settled()
  }
  devenv('snapshot', 'delete', 'db', 'older')
  settled()
  const detail = ({ down, fromSpare }) => {
    const parts = []
    if (down.length) parts.push(`${fromSpare.length ? 'databases swapped' : 'service stopped'} ${stats(down)}`)
    if (fromSpare.length) parts.push(`from the ready copy ${fromSpare.filter(Boolean).length}/${fromSpare.length}`)
    return parts.length ? `; ${parts.join('; ')}` : ''
  }
  console.log(`devenv snapshot save (CLI, wall)                  ${stats(saves)}`)
  console.log(`devenv snapshot restore, just saved (CLI, wall)   ${stats(latest.wall)}${detail(latest)}`)
  console.log(`devenv snapshot restore, older (CLI, wall)        ${stats(older.wall)}${detail(older)}`)
  if (upkeep.length)
    console.log(
      `background upkeep (${upkeep.length} times) waited for   ${stats(upkeep)} (max ${s(Math.max(...upkeep))})${noSettle ? ' (not waited for: --no-settle)' : ''}`,
    )

  if (pg15) await pgDumpBaseline(rows, noteBytes, count, latest.wall, older.wall)
  else copyBaseline(rows, count, latest.wall, older.wall)
  console.log(`load average after: ${load()}`)
  if (breakdown) await pieces()
}

/** The fallback without PostgreSQL 15: what pg_restore does for this database, through psql. */
function copyBaseline(rows, count, latest, older) {
  console.log(
    `baseline: psql COPY reload (no PostgreSQL 15 tools in ${PG15_BIN}; set PG15_BIN for a real pg_dump/pg_restore)`,
  )
  const dump = path.join(base, 'items.copy')
  const dumps = []
  const reloads = []
  for (let run = 0; run < count; run++) {
    dumps.push(timed(() => psql(`\\copy items TO '${dump}'`))[0])
    reloads.push(
      timed(() =>
        psql('DROP TABLE items', TABLE, `\\copy items FROM '${dump}'`, 'ALTER TABLE items ADD PRIMARY KEY (id)'),
      )[0],
    )
    if (Number(psql('SELECT count(*) FROM items')) !== rows) throw new Error('the reload lost rows')
  }
  rmSync(dump, { force: true })
  console.log(`logical dump (psql COPY out)                      ${stats(dumps)}`)
  console.log(`logical reload (COPY in + primary key)            ${stats(reloads)}`)
  console.log(
    `devenv restore is ${faster(median(reloads), median(latest))} faster than the reload (just saved), ${faster(median(reloads), median(older))} (older)`,
  )
}

// ---- PostgreSQL 15: a throwaway cluster to dump from, and pg_restore into devenv's server ----

let pg15 // { dir, pgdata, port, log, running }
const tool = (name) => path.join(PG15_BIN, name)
const asRoot = typeof process.getuid === 'function' && process.getuid() === 0
/** The server tools refuse to run as root: run them as nobody. */
const unprivileged = (command, commandArgs, options = {}) =>
  asRoot
    ? execFileSync('runuser', ['-u', 'nobody', '--', command, ...commandArgs], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
        ...options,
      })
    : execFileSync(command, commandArgs, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...options })

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

async function startPg15() {
  const dir = path.join(base, 'pg15')
  const pgdata = path.join(dir, 'data')
  const log = path.join(dir, 'server.log')
  mkdirSync(dir, { mode: 0o755 })
  if (asRoot) {
    const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }))
    const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }))
    chownSync(dir, nobody, nogroup)
  }
  const port = await freePort()
  const started = performance.now()
  unprivileged(
    tool('initdb'),
    [
      '-D',
      pgdata,
      '-U',
      'postgres',
      '--auth-local=trust',
      '--auth-host=reject',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-instructions',
    ],
    { cwd: dir, env: { ...process.env, LC_ALL: 'C' } },
  )
  pg15 = { dir, pgdata, port, log, running: true }
  // Unix socket in the bench folder only; the port only names the socket.
  unprivileged(
    tool('pg_ctl'),
    [
      '-D',
      pgdata,
      '-l',
      log,
      '-w',
      '-t',
      '60',
      '-o',
      `-c listen_addresses='' -c unix_socket_directories='${dir}' -p ${port}`,
      'start',
    ],
    { cwd: dir },
  )
  const version = pg15Sql('postgres', 'SHOW server_version')
  console.log(
    `PostgreSQL ${version} cluster to dump from: initdb + start ${s(performance.now() - started)}, socket ${dir}/.s.PGSQL.${port}`,
  )
}

function stopPg15() {
  if (!pg15?.running) return
  try {
    unprivileged(tool('pg_ctl'), ['-D', pg15.pgdata, '-m', 'fast', '-w', '-t', '60', 'stop'], { cwd: pg15.dir })
    pg15.running = false
  } catch (error) {
    console.error(`pg_ctl stop failed: ${stderrOf(error)}`)
    // Never leave a postgres behind: kill the postmaster named in its pid file.
    try {
      const pid = Number(readFileSync(path.join(pg15.pgdata, 'postmaster.pid'), 'utf8').split('\n')[0])
      if (pid > 0) process.kill(pid, 'SIGQUIT')
      pg15.running = false
    } catch {
      // no pid file: not running
    }
  }
}

const pg15Target = (db) => ({ psql: tool('psql'), host: pg15.dir, port: pg15.port, user: 'postgres', db })
const pg15Sql = (db, ...commands) => sql(pg15Target(db), ...commands)
const RESTORE_DB = 'bench_restore'
/** The rows, and the primary key pg_restore builds after them. */
const CHECK =
  "SELECT count(*) FILTER (WHERE EXISTS (SELECT FROM pg_indexes WHERE tablename = 'items' AND indexname = 'items_pkey')) FROM items"
let restoreInto // where pg_restore restores: devenv's PostgreSQL 17 server, or the PostgreSQL 15 one if that fails

/** devenv's server as superuser (its password is in the service's data folder), to drop and create the scratch database. */
function devenvSuperuser() {
  const { password } = JSON.parse(readFileSync(path.join(data, 'superuser.json'), 'utf8'))
  return { host, user: 'postgres', password, db: 'postgres' }
}

function restoreTargets() {
  const onDevenv = {
    label: "devenv's PostgreSQL 17 server",
    short: '17',
    admin: () => devenvSuperuser(),
    // The database's own user restores, as an app's user would; --no-owner makes it the owner of everything.
    connection: ['-h', host, '-U', 'bench'],
    env: { PGPASSWORD: 'bench' },
    check: () => sql({ host, user: 'bench', password: 'bench', db: RESTORE_DB }, CHECK),
    owner: 'bench',
  }
  const onPg15 = {
    label: 'the PostgreSQL 15 server (pg_restore 15 could not restore into 17)',
    short: '15',
    admin: () => pg15Target('postgres'),
    connection: ['-h', pg15.dir, '-p', String(pg15.port), '-U', 'postgres'],
    env: {},
    check: () => pg15Sql(RESTORE_DB, CHECK),
    owner: 'postgres',
  }
  return [onDevenv, onPg15]
}

/** One restore the DDEV/Lando way: drop and recreate the database, pg_restore the archive into it. */
function pgRestore(target, archive, jobs, rows) {
  const [resetMs] = timed(() =>
    sql(
      target.admin(),
      `DROP DATABASE IF EXISTS ${RESTORE_DB} WITH (FORCE)`,
      `CREATE DATABASE ${RESTORE_DB} OWNER ${target.owner}`,
    ),
  )
  const [restoreMs, stderr] = timed(() =>
    execFileSync(
      tool('pg_restore'),
      ['--no-owner', '--exit-on-error', '-j', String(jobs), ...target.connection, '-d', RESTORE_DB, archive],
      {
        env: { ...env, ...target.env },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  )
  const found = Number(target.check())
  if (found !== rows)
    throw new Error(`pg_restore into ${target.label} left ${found} rows (0: no primary key), not ${rows}`)
  return { totalMs: resetMs + restoreMs, restoreMs, stderr }
}

async function pgDumpBaseline(rows, noteBytes, count, latest, older) {
  if (!pg15.loaded) {
    pg15Sql('postgres', 'CREATE DATABASE bench')
    pg15.loaded = true
  }
  const [loadMs] = timed(() => pg15Sql('bench', ...loadItems(rows, noteBytes)))
  console.log(
    `baseline: pg_dump -Fc / pg_restore (${PG15_BIN}); same rows loaded into PostgreSQL 15 in ${s(loadMs)}, database ${(Number(pg15Sql('bench', "SELECT pg_database_size('bench')")) / MB).toFixed(0)} MiB`,
  )
  const archive = path.join(base, 'bench.dump')
  const dumps = []
  for (let run = 0; run < count; run++) {
    rmSync(archive, { force: true })
    dumps.push(
      timed(() =>
        execFileSync(
          tool('pg_dump'),
          ['-Fc', '-h', pg15.dir, '-p', String(pg15.port), '-U', 'postgres', '-d', 'bench', '-f', archive],
          { env, stdio: ['ignore', 'pipe', 'pipe'] },
        ),
      )[0],
    )
  }
  console.log(
    `pg_dump -Fc (from PostgreSQL 15)                  ${stats(dumps)}; archive ${(statSync(archive).size / MB).toFixed(1)} MiB`,
  )

  if (!restoreInto) {
    const [onDevenv, onPg15] = restoreTargets()
    try {
      const first = pgRestore(onDevenv, archive, 1, rows) // a trial: not counted
      restoreInto = onDevenv
      const server = sql(onDevenv.admin(), 'SHOW server_version')
      console.log(
        `pg_restore 15 restores into devenv's PostgreSQL ${server} server${first.stderr.trim() ? `, saying: ${first.stderr.trim()}` : ' without a warning'}`,
      )
    } catch (error) {
      console.log(
        `pg_restore 15 could not restore into devenv's server (${stderrOf(error).split('\n')[0]}); restoring into the PostgreSQL 15 server instead`,
      )
      restoreInto = onPg15
    }
  }
  const results = {}
  for (const jobs of [1, 2]) {
    const totals = []
    const alone = []
    for (let run = 0; run < count; run++) {
      const { totalMs, restoreMs } = pgRestore(restoreInto, archive, jobs, rows)
      totals.push(totalMs)
      alone.push(restoreMs)
    }
    results[jobs] = totals
    console.log(
      `drop + create + pg_restore -j ${jobs} (into ${restoreInto.short})        ${stats(totals)}; pg_restore alone ${stats(alone)}`,
    )
  }
  sql(restoreInto.admin(), `DROP DATABASE IF EXISTS ${RESTORE_DB} WITH (FORCE)`) // not in the next size's snapshots
  rmSync(archive, { force: true })
  for (const jobs of [1, 2]) {
    console.log(
      `devenv restore is ${faster(median(results[jobs]), median(latest))} faster than pg_restore -j ${jobs} (just saved), ${faster(median(results[jobs]), median(older))} (older)`,
    )
  }
}

/** Where a restore's time goes: the copy, the hash, the fsync, the service stop/start (in-process, no CLI start-up). */
async function pieces() {
  let copyTree
  try {
    ;({ copyTree } = await import('../dist/snapshots/tree.js'))
  } catch (error) {
    console.log(`breakdown skipped: dist/snapshots/tree.js does not load (${error.message})`)
    return
  }
  if (typeof copyTree !== 'function') {
    console.log('breakdown skipped: dist/snapshots/tree.js no longer exports copyTree')
    return
  }
  const tries = 3
  const measure = async (label, work) => {
    const times = []
    try {
      for (let run = 0; run < tries; run++) {
        const target = path.join(base, `copy-${run}`)
        rmSync(target, { recursive: true, force: true })
        const started = performance.now()
        await work(target)
        times.push(performance.now() - started)
        rmSync(target, { recursive: true, force: true })
      }
      console.log(`  ${label.padEnd(44)} ${stats(times)}`)
    } catch (error) {
      console.log(`  ${label.padEnd(44)} skipped: ${error.message}`)
    }
  }
  devenv('stop', 'db')
  try {
    console.log('breakdown (in-process, service stopped):')
    await measure('copy', (target) => copyTree(data, target))
    await measure('copy + sha256 (one pass)', (target) => copyTree(data, target, { hash: true }))
    await measure('copy + sha256 + syncfs (file-level restore)', (target) =>
      copyTree(data, target, { hash: true, durable: true }),
    )
    process.env.DEVENV_SNAPSHOT_FSYNC = 'each'
    await measure('copy + sha256 + fsync per file (before)', (target) =>
      copyTree(data, target, { hash: true, durable: true }),
    )
    delete process.env.DEVENV_SNAPSHOT_FSYNC
    const [startMs] = timed(() => devenv('up', 'db'))
    const [stopMs] = timed(() => devenv('stop', 'db'))
    const [cliMs] = timed(() => devenv('snapshot', 'list'))
    console.log(
      `  devenv up db ${s(startMs)}, devenv stop db ${s(stopMs)}, CLI start-up (devenv snapshot list) ${s(cliMs)}`,
    )
  } finally {
    delete process.env.DEVENV_SNAPSHOT_FSYNC
    devenv('up', 'db')
  }
}

try {
  console.log(
    `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model}), ${os.platform()} ${os.release()}, ${new Date().toISOString()}, load ${load()}`,
  )
  devenv('up')
  host = JSON.parse(devenv('status', '--json')).result.services[0].address
  if (pg15Found) {
    try {
      await startPg15()
    } catch (error) {
      console.log(
        `PostgreSQL 15 from ${PG15_BIN} did not start (${stderrOf(error).split('\n')[0]}): the baseline is a psql COPY reload, not pg_dump/pg_restore`,
      )
      stopPg15()
      pg15 = undefined
    }
  } else
    console.log(
      `no PostgreSQL 15 tools in ${PG15_BIN} (set PG15_BIN): the baseline is a psql COPY reload, not pg_dump/pg_restore`,
    )
  if (only !== 'large') await bench('300,000-row database', 300_000, 64, runs)
  if (only !== 'small') await bench('~1 GB database', 5_000_000, 128, Math.max(3, Math.ceil(runs / 2)))
} finally {
  stopPg15()
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
