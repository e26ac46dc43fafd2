import type pg from 'pg'
import type { DatabaseSpec } from '../../envfile/index.js'
import { withFileLock } from '../../state/index.js'
import { connect, quoteIdentifier, withConnection, type ServerTarget } from './connection.js'
import { readMarker, writeMarker } from './layout.js'
import { incomingName, spareName, templateName, templatePrefix } from './names.js'
import { ensureRoles } from './roles.js'
import { runSeedFile } from './seeder.js'
import { listSeedFiles, seedHash } from './seed-files.js'
import { cloneTemplate, databaseExists, discard, dropDatabase, isUsableSpare, reopenClosedDatabases, reopenLeftClosed, swapIn } from './swap.js'

const MAINTENANCE_DB = 'postgres'

export interface DatabaseOutcome {
  database: string
  /** 'kept': existed already; 'cloned': recreated from the seeded template; 'seeded': seeds ran. */
  action: 'kept' | 'cloned' | 'seeded'
  /** The copy swapped in was the spare made in the background after the last reset (the fast path). */
  fromSpare?: boolean
  seedFiles: number
  template: string
  durationMs: number
}

type Log = (line: string) => void

/**
 * Every role and database of the envfile exists; seeds run where no seeded template was ever
 * made. On a warm start this is one connection and two catalog reads.
 */
export async function initialiseDatabases(target: ServerTarget, dataDir: string, databases: DatabaseSpec[], log: Log): Promise<DatabaseOutcome[]> {
  return withConnection(target, MAINTENANCE_DB, (admin) => initialiseDatabasesWith(admin, target, dataDir, databases, log))
}

/** initialiseDatabases on a connection to the maintenance database already open (the one that found the server up). */
export async function initialiseDatabasesWith(admin: pg.Client, target: ServerTarget, dataDir: string, databases: DatabaseSpec[], log: Log): Promise<DatabaseOutcome[]> {
  const marker = readMarker(dataDir)
  marker.verifiedRoles ??= {}
  // Kept once every database is there: a first start whose seed fails leaves no marker at all.
  const rolesVerified = await ensureRoles(admin, databases, marker.verifiedRoles)
  const names = databases.map((database) => database.name)
  await reopenLeftClosed(admin, names, log)
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names])
  const present = new Set(rows.map((row) => row.datname))
  const outcomes: DatabaseOutcome[] = []
  for (const database of databases) {
    const started = Date.now()
    if (marker.databases[database.name] && present.has(database.name)) {
      // Seeded once already: never reseed behind the user's back, even when the seeds changed.
      outcomes.push({ database: database.name, action: 'kept', seedFiles: 0, template: marker.databases[database.name]!.template, durationMs: 0 })
      continue
    }
    const outcome = await restoreSeededState(admin, target, database, log, false)
    marker.databases[database.name] = { seedHash: outcome.hash, template: outcome.template, seededAt: new Date().toISOString() }
    writeMarker(dataDir, marker)
    outcomes.push({ database: database.name, action: outcome.seeded ? 'seeded' : 'cloned', seedFiles: outcome.seedFiles, template: outcome.template, durationMs: Date.now() - started })
  }
  if (rolesVerified && outcomes.every((outcome) => outcome.action === 'kept')) writeMarker(dataDir, marker)
  return outcomes
}

/**
 * Back to the freshly seeded state: from the template when the seeds have not changed since
 * it was made, otherwise (or when `reseed`) by running the seeds again into a new template.
 * Leaves work for `maintain` (the replaced copy to drop, the next spare to clone).
 */
export async function resetDatabase(target: ServerTarget, dataDir: string, database: DatabaseSpec, options: { reseed: boolean; log: Log }): Promise<DatabaseOutcome> {
  const started = Date.now()
  return withFileLock(resetLockFile(dataDir, database.name), () =>
    withConnection(target, MAINTENANCE_DB, async (admin) => {
      await ensureRoles(admin, [database])
      await reopenClosedDatabases(admin, [database.name])
      const outcome = await restoreSeededState(admin, target, database, options.log, options.reseed)
      const marker = readMarker(dataDir)
      marker.databases[database.name] = { seedHash: outcome.hash, template: outcome.template, seededAt: new Date().toISOString() }
      writeMarker(dataDir, marker)
      return {
        database: database.name,
        action: outcome.seeded ? 'seeded' : 'cloned',
        ...(outcome.fromSpare ? { fromSpare: true } : {}),
        seedFiles: outcome.seedFiles,
        template: outcome.template,
        durationMs: Date.now() - started,
      }
    }),
  )
}

function resetLockFile(dataDir: string, database: string): string {
  return `${dataDir}/reset-${Buffer.from(database).toString('hex').slice(0, 64)}`
}

async function restoreSeededState(admin: pg.Client, target: ServerTarget, database: DatabaseSpec, log: Log, reseed: boolean) {
  const files = listSeedFiles(database.seed, database.name)
  const hash = seedHash(database.name, files)
  const template = templateName(database.name, hash)
  let seeded = false
  if (reseed || !(await isCompleteTemplate(admin, template))) {
    await buildTemplate(admin, target, database, template, files, log)
    seeded = true
  }
  const spare = spareName(database.name, template)
  // Seeds that ran again may give other rows (random(), now()) than the spare of the same files.
  if (seeded && (await databaseExists(admin, spare))) await discard(admin, spare, database.name)
  const fromSpare = !seeded && (await isUsableSpare(admin, spare))
  let replacement = spare
  if (!fromSpare) {
    replacement = incomingName(database.name)
    // Left by a reset killed before its swap: out of the way, for the background drop.
    if (await databaseExists(admin, replacement)) await discard(admin, replacement, database.name)
    await cloneTemplate(admin, template, replacement)
  }
  await swapIn(admin, replacement, database.name)
  if (seeded) await discardStaleTemplates(admin, database.name, template)
  return { hash, template, seeded, fromSpare, seedFiles: files.length }
}

/**
 * Seeds run into the template itself, never into the live database: a failing seed leaves
 * nothing half-done behind (the unfinished template is dropped), and the live database is
 * only replaced by a complete clone.
 */
async function buildTemplate(admin: pg.Client, target: ServerTarget, database: DatabaseSpec, template: string, files: ReturnType<typeof listSeedFiles>, log: Log): Promise<void> {
  if (await databaseExists(admin, template)) await discard(admin, template, database.name)
  await admin.query(`CREATE DATABASE ${quoteIdentifier(template)} OWNER ${quoteIdentifier(database.user)} ENCODING 'UTF8' TEMPLATE template0`)
  try {
    const client = await connect(target, template)
    try {
      for (const seed of files) {
        log(`postgres: seeding ${database.name} from ${seed.file}`)
        await runSeedFile(client, seed, database.user, database.name)
      }
    } finally {
      await client.end().catch(() => {})
    }
    await admin.query(`ALTER DATABASE ${quoteIdentifier(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`)
  } catch (error) {
    await dropDatabase(admin, template).catch(() => {})
    throw error
  }
}

/** Stale templates (older seeds) are renamed aside at once and dropped in the background. */
async function discardStaleTemplates(admin: pg.Client, database: string, keep: string): Promise<void> {
  const prefix = templatePrefix(database)
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2', [prefix, keep])
  for (const { datname } of rows) if (/__seed_[0-9a-f]{12}$/.test(datname)) await discard(admin, datname, database)
}

async function isCompleteTemplate(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [name])
  return rows[0]?.datistemplate === true
}

export { dropDatabase, databaseExists }
