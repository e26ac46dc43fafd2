import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { withFileLock } from '../../state/index.js'
import { withoutExtraCaCerts } from '../../util/node-start-env.js'
import { quoteIdentifier, withConnection, type ServerTarget } from './connection.js'
import { readMarker } from './layout.js'
import { discardPrefix, preparingName, preparingPrefix, snapshotCopyPrefix, spareName, sparePrefix } from './names.js'
import { folderSummary } from './database-folder.js'
import { readRegistry, readySpares } from './snapshot-registry.js'
import type { CrashPoint } from '../capabilities.js'
import { cloneTemplate, databasesStartingWith, dropDatabase, isUsableSpare } from './swap.js'

export interface MaintenanceReport {
  sparesMade: string[]
  dropped: string[]
  /** Spares of snapshot copies that did not match the copy's checksum (dropped, not used). */
  mismatched?: string[]
}

/**
 * The slow half of a reset, done after it has returned: clone the next spare from each seeded
 * template (so the next reset is only a rename), then drop the copies renamed aside. Safe to
 * kill at any point (a CREATE or DROP DATABASE that does not finish leaves no database under
 * the user's name; a half-dropped discard is dropped again next time) and to run beside a
 * reset (PostgreSQL's own locks order them). One at a time per service.
 */
export function maintain(target: ServerTarget, dataDir: string, crashPoint: CrashPoint = () => {}): Promise<MaintenanceReport> {
  const run = maintainLocked(target, dataDir, crashPoint)
  const settled = run.then(
    () => {},
    () => {},
  )
  inProcess.set(dataDir, [...(inProcess.get(dataDir) ?? []), settled])
  void settled.then(() => inProcess.set(dataDir, (inProcess.get(dataDir) ?? []).filter((entry) => entry !== settled)))
  return run
}

const inProcess = new Map<string, Promise<void>[]>()

/** Resolves when every maintenance this process started on `dataDir` has finished (for tests and benchmarks). */
export async function maintenanceSettled(dataDir: string): Promise<void> {
  await Promise.all(inProcess.get(dataDir) ?? [])
}

/**
 * Where the tests kill (or stop) the detached upkeep process (DEVENV_SNAPSHOT_CRASH_AT): never the
 * supervisor's, which passes no crash points. A discard or spare left by a killed upkeep is the
 * next one's work, and a commit meanwhile must leave it out of the box whether it is dropped yet or not.
 */
export const UPKEEP_CRASH_POINTS = ['upkeep:spare-cloned', 'upkeep:listed', 'upkeep:dropped'] as const

async function maintainLocked(target: ServerTarget, dataDir: string, crashPoint: CrashPoint): Promise<MaintenanceReport> {
  const report: MaintenanceReport = { sparesMade: [], dropped: [] }
  await withFileLock(path.join(dataDir, 'maintenance'), () =>
    withConnection(target, 'postgres', async (admin) => {
      // A reset may run meanwhile and use up the spare or leave a new discard: go round until quiet.
      for (let pass = 0; pass < 5; pass++) {
        const before = report.sparesMade.length + report.dropped.length
        const registry = readRegistry(dataDir)
        for (const [database, seeded] of Object.entries(readMarker(dataDir).databases)) {
          await makeSpare(admin, database, seeded.template, report)
          const spared = readySpares(registry, database)
          for (const copy of spared) await makeSnapshotSpare(admin, dataDir, database, copy, registry.copies[copy]!.checksum, report, crashPoint)
          const keep = new Set([spareName(database, seeded.template), ...spared.map((copy) => spareName(database, copy))])
          await dropLeftovers(admin, dataDir, database, keep, report, crashPoint)
        }
        if (report.sparesMade.length + report.dropped.length === before) break
      }
    }),
  )
  return report
}

async function makeSpare(admin: pg.Client, database: string, template: string, report: MaintenanceReport): Promise<void> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [template])
  if (!rows[0]?.datistemplate) return
  const spare = spareName(database, template)
  if (await isUsableSpare(admin, spare)) return
  await dropDatabase(admin, spare)
  try {
    await cloneTemplate(admin, template, spare)
    report.sparesMade.push(spare)
  } catch (error) {
    // Another maintenance made it meanwhile (duplicate name): fine.
    if ((error as { code?: string }).code !== '42P04') throw error
  }
}

/**
 * The ready clone of the snapshot copy saved or restored last: made under a __prep_ name,
 * checked against the copy's checksum, and only then renamed to the spare a restore takes.
 */
async function makeSnapshotSpare(admin: pg.Client, dataDir: string, database: string, copy: string, checksum: string, report: MaintenanceReport, crashPoint: CrashPoint): Promise<void> {
  const { rows } = await admin.query<{ datistemplate: boolean }>('SELECT datistemplate FROM pg_database WHERE datname = $1', [copy])
  if (!rows[0]?.datistemplate) return
  const spare = spareName(database, copy)
  if (await isUsableSpare(admin, spare)) return
  const preparing = preparingName(database, copy)
  await dropDatabase(admin, spare)
  await dropDatabase(admin, preparing)
  await cloneTemplate(admin, copy, preparing)
  crashPoint('upkeep:spare-cloned')
  if ((await folderSummary(admin, dataDir, preparing)).checksum !== checksum) {
    await dropDatabase(admin, preparing)
    report.mismatched = [...(report.mismatched ?? []), copy]
    return
  }
  await admin.query(`ALTER DATABASE ${quoteIdentifier(preparing)} RENAME TO ${quoteIdentifier(spare)}`)
  report.sparesMade.push(spare)
}

/**
 * Discards, spares nobody will take, half-made snapshot spares, and snapshot copies no snapshot
 * registered. The registry is read after the databases are listed: a save registers its copy
 * before creating it, so any copy listed is in the registry read after, unless it is debris.
 */
async function dropLeftovers(admin: pg.Client, dataDir: string, database: string, keepSpares: Set<string>, report: MaintenanceReport, crashPoint: CrashPoint): Promise<void> {
  const copies = await databasesStartingWith(admin, snapshotCopyPrefix(database))
  const registered = readRegistry(dataDir).copies
  const stale = [
    ...(await databasesStartingWith(admin, discardPrefix(database))),
    ...(await databasesStartingWith(admin, sparePrefix(database))).filter((name) => !keepSpares.has(name)),
    ...(await databasesStartingWith(admin, preparingPrefix(database))),
    ...copies.filter((name) => !registered[name]),
  ]
  if (stale.length) crashPoint('upkeep:listed')
  for (const name of stale) {
    await dropDatabase(admin, name)
    report.dropped.push(name)
    crashPoint('upkeep:dropped')
  }
}

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'maintenance-main.js')

/**
 * Runs `maintain` in a detached process, so the command that asked for it returns at once.
 * The process finds the superuser password in the data folder itself (never in its arguments).
 */
export function startMaintenance(target: ServerTarget, dataDir: string): void {
  const child = spawn(process.execPath, [MAIN, dataDir, target.host, String(target.port)], {
    cwd: dataDir,
    detached: true,
    stdio: 'ignore',
    env: withoutExtraCaCerts(process.env),
  })
  child.on('error', () => {})
  child.unref()
}
