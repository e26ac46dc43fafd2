import path from 'node:path'
import type pg from 'pg'
import { DevenvError } from '../../errors.js'
import { withSignalsDeferred } from '../../util/deferred-signals.js'
import type { CopyRecord, PreparedSwap } from '../capabilities.js'
import { withConnection, quoteIdentifier, type ServerTarget } from './connection.js'
import { databaseFolder, folderSummary, foldersStartingWith, treeSummary } from './database-folder.js'
import { startMaintenance } from './maintenance.js'
import { readMarker } from './layout.js'
import { discardPrefix, incomingName, preparingName, preparingPrefix, snapshotCopyName, snapshotCopyPrefix, spareName, sparePrefix } from './names.js'
import { readRegistry, REGISTRY_FILE, updateRegistry } from './snapshot-registry.js'
import { cloneTemplate, closeToConnections, databaseExists, discard, dropDatabase, isUsableSpare, reopenClosedDatabases, swapInAll } from './swap.js'

/*
 * PostgreSQL snapshots kept inside the cluster, as template databases: a snapshot is a
 * FILE_COPY clone of each database taken while it is closed to connections (consistent, no
 * server stop), and a restore swaps a clone of that copy in by renaming, in one transaction,
 * like `db reset`. A file-level restore must stop and start the server (0.75 s at any size);
 * a rename does not, and the upkeep keeps verified clones (spares) of recent copies ready, so
 * that restoring one is a rename at any size.
 *
 * Each copy's checksum is the sha256 tree checksum of its folder (base/<oid>): FILE_COPY copies
 * files byte for byte, and nobody can connect to a copy or its spare, so a clone of a copy has
 * the copy's checksum.
 */

export type CrashPoint = (step: string) => void

/**
 * The steps of a restore of a snapshot kept inside the cluster where the tests kill it
 * (DEVENV_SNAPSHOT_CRASH_AT). Before `restore:swapped` the old databases stay; from it on the
 * restored ones. `restore:upkeep-started` is the restore killed after its swap with the upkeep
 * it started already dropping what the swap discarded, while the next command runs.
 */
export const COPIES_RESTORE_CRASH_POINTS = ['restore:journal-written', 'restore:prepared', 'restore:swapped', 'restore:upkeep-started'] as const

/**
 * Copies every database of `databases` under `snapshotCopyName(database, id)`. All of them are
 * closed to connections and their sessions ended for the copies, then opened again, so a set of
 * databases is copied at one moment. The copies are registered before they exist, so the upkeep
 * never takes one for debris.
 */
export async function saveCopies(target: ServerTarget, dataDir: string, databases: string[], id: string, snapshot: string, crashPoint: CrashPoint): Promise<CopyRecord[]> {
  const copies = databases.map((database) => ({ database, copy: snapshotCopyName(database, id) }))
  await updateRegistry(dataDir, (registry) => {
    for (const { database, copy } of copies) registry.copies[copy] = { database, snapshot, checksum: '' }
  })
  crashPoint('save:registered')
  const saved = await withConnection(target, 'postgres', async (admin) => {
    for (const database of databases) {
      if (!(await databaseExists(admin, database))) throw new DevenvError('SNAPSHOT', `database ${database} does not exist yet`, { hint: 'Start the service once with devenv up, so that it creates its databases.' })
    }
    // Ctrl-C while the databases are closed would leave them refusing the application.
    await withSignalsDeferred(async () => {
      try {
        await closeToConnections(admin, databases)
        crashPoint('save:closed')
        // CREATE DATABASE waits (up to 5 s) for the terminated sessions to be gone.
        for (const { database, copy } of copies) {
          await cloneTemplate(admin, database, copy)
          await admin.query(`ALTER DATABASE ${quoteIdentifier(copy)} WITH IS_TEMPLATE true`)
        }
      } finally {
        await reopenClosedDatabases(admin, databases)
      }
    })
    crashPoint('save:copied')
    const summaries: CopyRecord[] = []
    for (const { database, copy } of copies) summaries.push({ database, copy, ...(await folderSummary(admin, dataDir, copy)) })
    return summaries
  })
  await updateRegistry(dataDir, (registry) => {
    for (const { database, copy, checksum, size } of saved) {
      registry.copies[copy] = { database, snapshot, checksum, size }
      registry.ready[database] = copy
    }
  })
  startMaintenance(target, dataDir)
  return saved
}

/**
 * A replacement for each database, beside the live one: the spare the upkeep made and checked
 * against the copy's checksum, or else a fresh clone of the copy, made while the copy itself is
 * checked against it. Nothing the user sees changes until commit().
 */
export async function prepareSwap(target: ServerTarget, dataDir: string, copies: CopyRecord[], crashPoint: CrashPoint): Promise<PreparedSwap> {
  const registry = readRegistry(dataDir)
  const replacements = await withConnection(target, 'postgres', async (admin) => {
    const chosen: Array<{ database: string; replacement: string; fromSpare: boolean }> = []
    try {
      for (const copy of copies) {
        await requireCopy(admin, copy, registry.copies[copy.copy]?.checksum)
        const incoming = incomingName(copy.database)
        // Left by a restore or reset killed before its swap: out of the way, for the upkeep to drop.
        if (await databaseExists(admin, incoming)) await discard(admin, incoming, copy.database)
        if (await claimSpare(admin, spareName(copy.database, copy.copy), incoming)) {
          chosen.push({ database: copy.database, replacement: incoming, fromSpare: true })
          continue
        }
        // The copy is read and hashed while PostgreSQL clones it (FILE_COPY: byte for byte), on the other core.
        const source = await databaseFolder(admin, dataDir, copy.copy)
        const [found] = await Promise.all([treeSummary(source), cloneTemplate(admin, copy.copy, incoming)])
        chosen.push({ database: copy.database, replacement: incoming, fromSpare: false })
        if (found.checksum !== copy.checksum) {
          throw new DevenvError('SNAPSHOT', `the copy of database ${copy.database} does not match the snapshot's checksum (${found.checksum}, expected ${copy.checksum})`, {
            hint: 'The copy in the cluster was changed or damaged; this snapshot cannot be restored.',
          })
        }
      }
    } catch (error) {
      await discardReplacements(admin, chosen)
      throw error
    }
    return chosen
  })
  crashPoint('restore:prepared')
  return {
    fromSpare: replacements.every((entry) => entry.fromSpare),
    commit: async () => {
      await withConnection(target, 'postgres', (admin) => swapInAll(admin, replacements.map(({ database, replacement }) => ({ replacement, live: database }))))
      crashPoint('restore:swapped')
      await updateRegistry(dataDir, (current) => {
        for (const copy of copies) current.ready[copy.database] = copy.copy
      })
      startMaintenance(target, dataDir)
      crashPoint('restore:upkeep-started')
    },
    abandon: async () => {
      await withConnection(target, 'postgres', (admin) => discardReplacements(admin, replacements))
      startMaintenance(target, dataDir)
    },
  }
}

/**
 * Takes the ready spare by renaming it to `incoming`: from then on the upkeep, which may be
 * dropping spares of other copies at this moment, leaves it alone. False when there is none
 * (or the upkeep got to it first): then the copy is cloned.
 */
async function claimSpare(admin: pg.Client, spare: string, incoming: string): Promise<boolean> {
  if (!(await isUsableSpare(admin, spare))) return false
  try {
    await admin.query(`ALTER DATABASE ${quoteIdentifier(spare)} RENAME TO ${quoteIdentifier(incoming)}`)
    return true
  } catch {
    return false
  }
}

async function discardReplacements(admin: pg.Client, chosen: Array<{ database: string; replacement: string; fromSpare: boolean }>): Promise<void> {
  for (const entry of chosen) {
    await discard(admin, entry.replacement, entry.database).catch(() => {})
  }
}

async function requireCopy(admin: pg.Client, copy: CopyRecord, registered: string | undefined): Promise<void> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [copy.copy])
  if (!rows[0]?.datistemplate) {
    throw new DevenvError('SNAPSHOT', `the copy of database ${copy.database} (${copy.copy}) is missing from the cluster`, {
      hint: 'The service\'s data was removed or replaced since the snapshot was taken; the snapshot cannot be restored. Delete it with devenv snapshot delete.',
    })
  }
  if (registered !== undefined && registered !== copy.checksum) {
    throw new DevenvError('SNAPSHOT', `the copy of database ${copy.database} (${copy.copy}) was registered with another checksum than the snapshot records`, { hint: 'The snapshot or the cluster was changed by hand; it cannot be trusted.' })
  }
}

/**
 * What a killed save, restore or reset leaves in the cluster: databases closed to connections
 * (opened again), and a replacement never swapped in (renamed aside for the upkeep to drop).
 */
export async function recoverDatabases(admin: pg.Client, databases: string[]): Promise<void> {
  await reopenClosedDatabases(admin, databases)
  for (const database of databases) {
    const incoming = incomingName(database)
    if (await databaseExists(admin, incoming)) await discard(admin, incoming, database)
  }
}

/** Unregisters the copies (first: an unregistered copy is debris the upkeep drops), then drops them and their spares. */
export async function dropCopies(target: ServerTarget | undefined, dataDir: string, copies: string[]): Promise<void> {
  if (!copies.length) return
  const doomed = new Set(copies)
  await updateRegistry(dataDir, (registry) => {
    for (const copy of copies) delete registry.copies[copy]
    for (const [database, copy] of Object.entries(registry.ready)) if (doomed.has(copy)) delete registry.ready[database]
  })
  if (!target) return
  await withConnection(target, 'postgres', async (admin) => {
    for (const copy of copies) {
      const database = readDatabaseOf(copy)
      await dropDatabase(admin, spareName(database, copy))
      await dropDatabase(admin, preparingName(database, copy))
      await dropDatabase(admin, copy)
    }
  })
}

/** A copy's name carries its database's name before `__snap_`, which is enough to name its spare. */
function readDatabaseOf(copy: string): string {
  return copy.slice(0, copy.lastIndexOf('__snap_'))
}

/**
 * Copies registered for snapshots that no longer exist (a save killed before it published its
 * manifest, a snapshot folder removed by hand): unregistered and dropped. `keep` are the copies
 * the snapshot manifests name.
 */
export async function forgetCopiesExcept(target: ServerTarget | undefined, dataDir: string, keep: Set<string>): Promise<string[]> {
  const stale = Object.keys(readRegistry(dataDir).copies).filter((copy) => !keep.has(copy))
  await dropCopies(target, dataDir, stale)
  return stale
}

/**
 * What a committed box leaves out of the data folder: the registry, and the folders of snapshot
 * copies, their spares and databases on their way to be dropped. Their catalog rows stay; in
 * the new project nothing registers them, so its upkeep drops them (a DROP DATABASE whose
 * folder is gone only removes the row). The seed template and its spare are kept: `db reset`
 * takes that spare as it is. Without a running server only the registry is left out.
 *
 * The upkeep may be at work meanwhile (a restore killed after its swap leaves it running): what
 * it drops after this one read of the catalog was left out anyway, and a spare it finishes
 * before the commit stops the server is copied with its catalog row, whole, for the new
 * project's upkeep to drop. The box always holds a consistent cluster.
 */
export async function notStatePaths(target: ServerTarget | undefined, dataDir: string, databases: string[], crashPoint: CrashPoint): Promise<string[]> {
  const paths = [REGISTRY_FILE]
  if (!target) return paths
  const marker = readMarker(dataDir)
  const seedSpares = databases.flatMap((database) => {
    const seeded = marker.databases[database]
    return seeded ? [spareName(database, seeded.template)] : []
  })
  const prefixes = databases.flatMap((database) => [snapshotCopyPrefix(database), sparePrefix(database), preparingPrefix(database), discardPrefix(database)])
  const folders = await withConnection(target, 'postgres', (admin) => foldersStartingWith(admin, dataDir, prefixes, [...databases, ...seedSpares]))
  crashPoint('commit:listed')
  return [...paths, ...folders.map((folder) => path.relative(dataDir, folder).split(path.sep).join('/'))]
}
