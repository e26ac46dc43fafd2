import type pg from 'pg'
import type { BoxDriver, Launch, ProbeResult, ServiceContext } from '../driver.js'
import { asUnprivileged } from '../driver.js'
import type { PostgresSettings } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { serverBinaries, serverMajorVersion } from './binaries.js'
import { prepareCluster } from './cluster.js'
import { connect, withConnection, type ServerTarget } from './connection.js'
import { reopenLeftClosed } from './swap.js'
import { initialiseDatabasesWith } from './databases.js'
import { clusterDir, clusterMajorVersion, superuserPassword } from './layout.js'
import { maintain } from './maintenance.js'
import { setSuperuserPasswordIfUnset } from './superuser-reset.js'

function settingsOf(context: ServiceContext): PostgresSettings {
  const settings = context.service.postgres
  if (!settings) throw new DevenvError('INTERNAL', `service ${context.service.name} is a postgres box without postgres settings`)
  return settings
}

export function serverTarget(context: ServiceContext): ServerTarget {
  return { host: context.address, port: context.port(settingsOf(context).port), superuserPassword: superuserPassword(context.dataDir) }
}

/** When the current start of each data folder began, for the "ready in" line of the log. */
const startBegan = new Map<string, number>()

async function prepare(context: ServiceContext): Promise<void> {
  startBegan.set(context.dataDir, performance.now())
  const settings = settingsOf(context)
  if (settings.version) {
    // The cluster's PG_VERSION says it without running the server binary (a process spawn per start).
    const bundled = clusterMajorVersion(context.dataDir) ?? serverMajorVersion()
    if (Number.parseInt(settings.version, 10) !== bundled) context.log(`postgres: version ${settings.version} was asked for; the bundled server is PostgreSQL ${bundled}`)
  }
  await prepareCluster({
    dataDir: context.dataDir,
    runDir: context.runDir,
    address: context.address,
    port: context.port(settings.port),
    settings: settings.settings,
    runAs: context.runAs,
    machineHome: context.machineHome,
    databases: settings.databases,
    log: context.log,
  })
}

function launch(context: ServiceContext): Launch {
  return {
    ...asUnprivileged(context.runAs, serverBinaries().postgres, ['-D', clusterDir(context.dataDir)]),
    env: { ...context.env, LC_ALL: 'C' },
    cwd: context.dataDir,
    uid: context.runAs?.uid,
    gid: context.runAs?.gid,
    // SIGTERM is "smart" shutdown, which waits for every client to leave; SIGINT disconnects
    // them, rolls back, checkpoints and exits cleanly ("fast" shutdown).
    stopSignal: 'SIGINT',
  }
}

async function probe(context: ServiceContext): Promise<ProbeResult> {
  const wanted = settingsOf(context).databases.map((database) => database.name)
  let client
  try {
    client = await connect(serverTarget(context), 'postgres', 2000)
  } catch (error) {
    return { ok: false, reason: `not accepting connections: ${(error as Error).message}` }
  }
  try {
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [wanted])
    const present = new Set(rows.map((row) => row.datname))
    const missing = wanted.filter((name) => !present.has(name))
    return missing.length ? { ok: false, reason: `database${missing.length > 1 ? 's' : ''} ${missing.join(', ')} not created yet` } : { ok: true }
  } catch (error) {
    return { ok: false, reason: (error as Error).message }
  } finally {
    await client.end().catch(() => {})
  }
}

/** Waits for the server to accept connections itself, so the runtime may call it right after the spawn. */
async function initialise(context: ServiceContext): Promise<void> {
  const target = serverTarget(context)
  await setSuperuserPasswordIfUnset(context.dataDir, context.runDir, target.port, context.signal)
  // The connection that finds the server up does the checks: one login and backend fewer on every start.
  // Through the unix socket in the run folder, which pg_hba trusts: a SCRAM login over TCP is ~7 ms
  // of this process's CPU and as much of the server's, on the way to every app that waits for it.
  const admin = await connectWhenUp({ ...target, host: context.runDir }, context.signal)
  let outcomes
  try {
    outcomes = await initialiseDatabasesWith(admin, target, context.dataDir, settingsOf(context).databases, context.log)
  } finally {
    await admin.end().catch(() => {})
    // Leftovers of resets (copies to drop) and the spares for the next ones, after `up` has returned.
    void maintain(target, context.dataDir).then(
      (report) => {
        if (report.sparesMade.length || report.dropped.length) context.log(`postgres: background upkeep: ${[...report.sparesMade.map((name) => `cloned ${name}`), ...report.dropped.map((name) => `dropped ${name}`)].join(', ')}`)
      },
      () => {},
    )
  }
  for (const outcome of outcomes) {
    if (outcome.action !== 'kept') context.log(`postgres: database ${outcome.database} ${outcome.action} (${outcome.seedFiles} seed file(s), ${outcome.durationMs} ms)`)
  }
  const began = startBegan.get(context.dataDir)
  if (began !== undefined) context.log(`postgres: ready, every database present, ${Math.round(performance.now() - began)} ms after prepare began`)
}

/** A connection to the maintenance database, as soon as the server accepts one. */
async function connectWhenUp(target: ServerTarget, signal?: AbortSignal, timeoutMs = 60_000): Promise<pg.Client> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new DevenvError('SERVICE_FAILED', 'postgres: stopped while waiting for the server to start')
    try {
      return await connect(target, 'postgres', 2000)
    } catch (error) {
      lastError = error
      // A warm server accepts connections some 20-50 ms after its spawn: poll finely.
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
  throw new DevenvError('HEALTH_TIMEOUT', `postgres did not accept connections ${target.host.startsWith('/') ? `on its socket in ${target.host}` : `at ${target.host}:${target.port}`} within ${timeoutMs / 1000} s: ${(lastError as Error)?.message}`)
}

/** A kill -9 of `snapshot save` or `db reset` while a database was closed for a copy or swap leaves it closed: open it. */
async function settle(context: ServiceContext): Promise<void> {
  const names = settingsOf(context).databases.map((database) => database.name)
  await withConnection(serverTarget(context), 'postgres', (admin) => reopenLeftClosed(admin, names, context.log))
}

export const postgresDriver: BoxDriver = { kind: 'postgres', unprivileged: true, prepare, launch, probe, initialise, settle }
