import type pg from 'pg'
import type { DatabaseSpec } from '../../envfile/model.js'
import { DevenvError } from '../../errors.js'
import { connect, quoteIdentifier, quoteLiteral, scramVerifier, withConnection, type ServerTarget } from './connection.js'
import { readMarker, SUPERUSER, writeMarker } from './layout.js'
import { runSeedFile } from './seeder.js'
import { listSeedFiles, seedHash } from './seed-files.js'

const MAINTENANCE_DB = 'postgres'
/**
 * WAL_LOG (the default since 15) copies block by block through the WAL; FILE_COPY copies the
 * files and forces two checkpoints, and a database made that way is slow to drop. Measured on
 * 143 MB (bench/postgres.mjs): clone + drop 0.77 s with WAL_LOG, 1.6 s with FILE_COPY.
 */
const CLONE_STRATEGY = 'WAL_LOG'

export interface DatabaseOutcome {
  database: string
  /** 'kept': existed already; 'cloned': recreated from the seeded template; 'seeded': seeds ran. */
  action: 'kept' | 'cloned' | 'seeded'
  seedFiles: number
  template: string
  durationMs: number
}

type Log = (line: string) => void

/** The seeded template's name: the database's name and a checksum of its seed files. */
export function templateName(database: string, hash: string): string {
  return `${templatePrefix(database)}${hash.slice(0, 12)}`
}

function templatePrefix(database: string): string {
  return `${Buffer.from(database).subarray(0, 36).toString()}__seed_`
}

/** Every role and database of the envfile exists; seeds run where no seeded template was ever made. */
export async function initialiseDatabases(target: ServerTarget, dataDir: string, databases: DatabaseSpec[], log: Log): Promise<DatabaseOutcome[]> {
  const marker = readMarker(dataDir)
  return withConnection(target, MAINTENANCE_DB, async (admin) => {
    await ensureRoles(admin, databases)
    const outcomes: DatabaseOutcome[] = []
    for (const database of databases) {
      const started = Date.now()
      if (marker.databases[database.name] && (await databaseExists(admin, database.name))) {
        // Seeded once already: never reseed behind the user's back, even when the seeds changed.
        outcomes.push({ database: database.name, action: 'kept', seedFiles: 0, template: marker.databases[database.name]!.template, durationMs: 0 })
        continue
      }
      const outcome = await restoreSeededState(admin, target, database, log, false)
      marker.databases[database.name] = { seedHash: outcome.hash, template: outcome.template, seededAt: new Date().toISOString() }
      writeMarker(dataDir, marker)
      outcomes.push({ database: database.name, action: outcome.seeded ? 'seeded' : 'cloned', seedFiles: outcome.seedFiles, template: outcome.template, durationMs: Date.now() - started })
    }
    return outcomes
  })
}

/**
 * Back to the freshly seeded state: from the template when the seeds have not changed since
 * it was made, otherwise (or when `reseed`) by running the seeds again into a new template.
 */
export async function resetDatabase(target: ServerTarget, dataDir: string, database: DatabaseSpec, options: { reseed: boolean; log: Log }): Promise<DatabaseOutcome> {
  const started = Date.now()
  return withConnection(target, MAINTENANCE_DB, async (admin) => {
    await ensureRoles(admin, [database])
    const outcome = await restoreSeededState(admin, target, database, options.log, options.reseed)
    const marker = readMarker(dataDir)
    marker.databases[database.name] = { seedHash: outcome.hash, template: outcome.template, seededAt: new Date().toISOString() }
    writeMarker(dataDir, marker)
    return { database: database.name, action: outcome.seeded ? 'seeded' : 'cloned', seedFiles: outcome.seedFiles, template: outcome.template, durationMs: Date.now() - started }
  })
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
  await cloneDatabase(admin, template, database)
  await dropStaleTemplates(admin, database.name, template)
  return { hash, template, seeded, seedFiles: files.length }
}

/**
 * Seeds run into the template itself, never into the live database: a failing seed leaves
 * nothing half-done behind (the unfinished template is dropped), and the live database is
 * only replaced by a complete clone.
 */
async function buildTemplate(admin: pg.Client, target: ServerTarget, database: DatabaseSpec, template: string, files: ReturnType<typeof listSeedFiles>, log: Log): Promise<void> {
  await dropDatabase(admin, template)
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

/** Build the copy aside and swap it in, so the old database stays whole until the new one is complete. */
async function cloneDatabase(admin: pg.Client, template: string, database: DatabaseSpec): Promise<void> {
  const incoming = `${Buffer.from(database.name).subarray(0, 50).toString()}__incoming`
  await dropDatabase(admin, incoming)
  await admin.query(`CREATE DATABASE ${quoteIdentifier(incoming)} TEMPLATE ${quoteIdentifier(template)} OWNER ${quoteIdentifier(database.user)} STRATEGY ${CLONE_STRATEGY}`)
  await dropDatabase(admin, database.name)
  await admin.query(`ALTER DATABASE ${quoteIdentifier(incoming)} RENAME TO ${quoteIdentifier(database.name)}`)
}

async function dropStaleTemplates(admin: pg.Client, database: string, keep: string): Promise<void> {
  const prefix = templatePrefix(database)
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) AND datname <> $2', [prefix, keep])
  for (const { datname } of rows) if (/__seed_[0-9a-f]{12}$/.test(datname)) await dropDatabase(admin, datname)
}

export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [name])
  if (!rows[0]) return
  if (rows[0].datistemplate) await admin.query(`ALTER DATABASE ${quoteIdentifier(name)} WITH IS_TEMPLATE false`)
  await admin.query(`DROP DATABASE IF EXISTS ${quoteIdentifier(name)} WITH (FORCE)`)
}

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
  return (rowCount ?? 0) > 0
}

async function isCompleteTemplate(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [name])
  return rows[0]?.datistemplate === true
}

/** Creates each role, or sets its password again (the envfile may have changed it). */
export async function ensureRoles(admin: pg.Client, databases: DatabaseSpec[]): Promise<void> {
  const passwords = new Map<string, string>()
  for (const database of databases) {
    if (database.user === SUPERUSER) {
      throw new DevenvError('ENVFILE_INVALID', `database ${database.name}: the user ${SUPERUSER} is reserved for devenv's administration of the server`, { hint: 'Give the database a user of its own, e.g. its name.' })
    }
    const known = passwords.get(database.user)
    if (known !== undefined && known !== database.password) {
      throw new DevenvError('ENVFILE_INVALID', `the user ${database.user} is given two different passwords`, { hint: 'A role has one password: use the same one for every database it owns.' })
    }
    passwords.set(database.user, database.password)
  }
  for (const [user, password] of passwords) {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [user])
    const verb = rowCount ? 'ALTER' : 'CREATE'
    const secret = password === '' ? 'PASSWORD NULL' : `PASSWORD ${quoteLiteral(scramVerifier(password))}`
    await admin.query(`${verb} ROLE ${quoteIdentifier(user)} WITH LOGIN ${secret}`)
  }
}
