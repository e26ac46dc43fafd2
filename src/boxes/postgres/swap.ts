import type pg from 'pg'
import { quoteIdentifier } from './connection.js'
import { withSignalsDeferred } from '../../util/deferred-signals.js'
import { discardName } from './names.js'

/**
 * How a clone of a template is made. Measured by bench/postgres.mjs (docs/benchmarks.md, 143 MB):
 * WAL_LOG writes the whole copy through the WAL and leaves it dirty in shared buffers, so the
 * next DROP DATABASE (which forces an immediate checkpoint) writes it all out again: clone + drop
 * of the replaced copy took 2.2–2.4 s in the background. FILE_COPY copies the files (two
 * checkpoints of its own): 0.8–0.9 s for the same work. The clones alone are within noise.
 */
export const CLONE_STRATEGY = 'FILE_COPY'

const ident = quoteIdentifier

/** A clone of `template` that nobody can connect to until it is swapped in. */
export async function cloneTemplate(admin: pg.Client, template: string, name: string): Promise<void> {
  const { rows } = await admin.query<{ owner: string }>('SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [template])
  const owner = rows[0]?.owner
  await admin.query(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}${owner ? ` OWNER ${ident(owner)}` : ''} STRATEGY ${CLONE_STRATEGY} ALLOW_CONNECTIONS false`)
}

/**
 * Puts `replacement` (complete, closed to connections) in the place of `live` by renaming, so
 * the user's name always holds a whole database: the old one until the commit, the new one
 * after. The old one is renamed aside (returned) for a background drop: DROP DATABASE forces
 * an immediate checkpoint and costs seconds on a database the user changed.
 */
export async function swapIn(admin: pg.Client, replacement: string, live: string): Promise<string | undefined> {
  return (await swapInAll(admin, [{ replacement, live }]))[0]
}

export interface Swap {
  replacement: string
  live: string
}

/**
 * swapIn() for several databases at once, all in one transaction: a snapshot of a service with
 * two databases comes back as a pair or not at all. Returns the discarded names, in order.
 *
 * Steps, and what a kill at each leaves: (1) each `live` closed to new connections — a kill here
 * leaves it closed, which `reopenClosedDatabases` undoes at the next start or reset; (2) their
 * sessions terminated; (3) one transaction renames them all and opens the new ones.
 */
export async function swapInAll(admin: pg.Client, swaps: Swap[]): Promise<Array<string | undefined>> {
  const existing = await Promise.all(swaps.map((swap) => databaseExists(admin, swap.live)))
  const discards = swaps.map((swap, index) => (existing[index] ? discardName(swap.live) : undefined))
  const closed = swaps.filter((_, index) => existing[index]).map((swap) => swap.live)
  const statements: string[] = []
  swaps.forEach((swap, index) => {
    if (discards[index]) statements.push(`ALTER DATABASE ${ident(swap.live)} RENAME TO ${ident(discards[index]!)}`)
    statements.push(`ALTER DATABASE ${ident(swap.replacement)} RENAME TO ${ident(swap.live)}`, `ALTER DATABASE ${ident(swap.live)} WITH ALLOW_CONNECTIONS true`)
  })
  // Ctrl-C between closing and the renames would leave the databases refusing the application.
  await withSignalsDeferred(async () => {
    try {
      await closeToConnections(admin, closed)
      // RENAME waits (up to 5 s) for the terminated sessions to be gone.
      await inTransaction(admin, statements)
    } catch (error) {
      await reopenClosedDatabases(admin, closed).catch(() => [])
      throw error
    }
  })
  return discards
}

/** No new sessions on these databases, and the current ones ended: before they are copied or renamed. */
export async function closeToConnections(admin: pg.Client, names: string[]): Promise<void> {
  if (!names.length) return
  for (const name of names) await admin.query(`ALTER DATABASE ${ident(name)} WITH ALLOW_CONNECTIONS false`)
  await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()', [names])
}

/** Renames a database out of the way for the background drop (instant, unlike DROP). */
export async function discard(admin: pg.Client, name: string, live: string): Promise<void> {
  await admin.query(`ALTER DATABASE ${ident(name)} RENAME TO ${ident(discardName(live))}`)
}

/** Undoes a swap killed between closing the database and the renames: the user's database accepts connections again. */
export async function reopenClosedDatabases(admin: pg.Client, names: string[]): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = ANY($1) AND NOT datallowconn AND datconnlimit <> -2', [names])
  for (const { datname } of rows) await admin.query(`ALTER DATABASE ${ident(datname)} WITH ALLOW_CONNECTIONS true`)
  return rows.map((row) => row.datname)
}

/** reopenClosedDatabases, saying in the service's log which databases an interrupted operation had left closed. */
export async function reopenLeftClosed(admin: pg.Client, names: string[], log: (line: string) => void): Promise<void> {
  for (const name of await reopenClosedDatabases(admin, names)) log(`postgres: database ${name} was left closed by an interrupted reset or snapshot; open again`)
}

async function inTransaction(admin: pg.Client, statements: string[]): Promise<void> {
  await admin.query('BEGIN')
  try {
    for (const statement of statements) await admin.query(statement)
    await admin.query('COMMIT')
  } catch (error) {
    await admin.query('ROLLBACK').catch(() => {})
    throw error
  }
}

/**
 * Drops a database. The upkeep and a `snapshot delete` may go for the same copy at the same
 * moment, and two concurrent ALTER/DROPs of one database fail ("tuple concurrently updated",
 * "cannot alter invalid database"), so drops of one name take turns on an advisory lock; the
 * second finds nothing left. A database an interrupted DROP left invalid is only dropped again.
 */
export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query('SELECT pg_advisory_lock(hashtext($1))', [`devenv drop ${name}`])
  try {
    const { rows } = await admin.query<{ datistemplate: boolean; invalid: boolean }>('SELECT datistemplate, datconnlimit = -2 AS invalid FROM pg_database WHERE datname = $1', [name])
    if (!rows[0]) return
    if (rows[0].datistemplate && !rows[0].invalid) await admin.query(`ALTER DATABASE ${ident(name)} WITH IS_TEMPLATE false`)
    await admin.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)
  } finally {
    await admin.query('SELECT pg_advisory_unlock(hashtext($1))', [`devenv drop ${name}`]).catch(() => {})
  }
}

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
  return (rowCount ?? 0) > 0
}

/** Names of existing databases starting with `prefix`. */
export async function databasesStartingWith(admin: pg.Client, prefix: string): Promise<string[]> {
  const { rows } = await admin.query<{ datname: string }>('SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname', [prefix])
  return rows.map((row) => row.datname)
}

/** A spare is usable when it exists, is closed to connections (untouched) and is not a half-dropped database. */
export async function isUsableSpare(admin: pg.Client, name: string): Promise<boolean> {
  const { rows } = await admin.query<{ usable: boolean }>('SELECT NOT datallowconn AND datconnlimit <> -2 AS usable FROM pg_database WHERE datname = $1', [name])
  return rows[0]?.usable === true
}
