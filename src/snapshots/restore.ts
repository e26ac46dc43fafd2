import { promises as fs } from 'node:fs'
import { DevenvError } from '../errors.js'
import { fsyncFolder } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import { crashPoint } from '../util/crash-points.js'
import { journalBase, newOperationId, removeJournal, updateJournal, type Journal } from './journal.js'
import { requireManifest, snapshotData, type SnapshotManifest } from './manifest.js'
import { validateServiceName, validateSnapshotName } from './names.js'
import { beginOperation } from './operation.js'
import type { Quiesce } from './quiesce.js'
import { commitCopiesRestore, prepareCopiesRestore } from './copies-snapshot.js'
import type { OpenServiceCopies } from './service-copies.js'
import { oldDirOf, restoreDirOf } from './recover.js'
import { copyTree, exists, removeTree, treeChecksum } from '../util/tree.js'

export interface RestoreOptions {
  paths: ProjectPaths
  service: string
  name: string
  /** The box and version the service runs now: a snapshot of another box or version is refused unless force. */
  box: string
  boxVersion: string
  force?: boolean
  /** Stops the service before the swap; what it returns starts it again after. */
  quiesce: Quiesce
  /** For a service that keeps its snapshots inside itself (postgres): how to reach them. */
  copies?: OpenServiceCopies
  /** The box never changes a file in place: hard-link files instead of copying them. */
  linkFiles?: boolean
}

export interface RestoreResult {
  service: string
  snapshot: string
  checksum: string
  size: number
  /** Milliseconds the service was stopped for the swap (or, for a snapshot kept inside the service, its databases were closed). */
  downtimeMs: number
  /** A snapshot kept inside the service was swapped in from its ready, verified spare: a rename. */
  fromSpare?: boolean
}

/** Refuses a snapshot made by another box or box version: its state may not even be readable. */
export function checkCompatible(manifest: SnapshotManifest, box: string, boxVersion: string, force = false): void {
  if (force) return
  if (manifest.box !== box || manifest.boxVersion !== boxVersion) {
    throw new DevenvError(
      'SNAPSHOT',
      `snapshot ${manifest.name} was taken from box ${manifest.box} ${manifest.boxVersion}, but ${manifest.service} now runs ${box} ${boxVersion}`,
      {
        hint: 'Restore it with --force if you know the state is compatible.',
      },
    )
  }
}

/**
 * Puts a snapshot back as the service's state, atomically:
 *  1. journal (phase preparing); copy the snapshot to data.restore-<id>, checking every file
 *     against the manifest, and make it durable;
 *  2. stop the service; journal phase swapping: the commit point;
 *  3. data → data.old-<id>, data.restore-<id> → data; remove data.old-<id>; remove the journal;
 *  4. start the service.
 * Killed anywhere, recoverServiceData() ends with the old state (before 2) or the new (after).
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const { paths } = options
  const service = validateServiceName(options.service)
  const name = validateSnapshotName(options.name)
  const manifest = requireManifest(paths, service, name)
  checkCompatible(manifest, options.box, options.boxVersion, options.force)
  if (manifest.storage === 'copies') return restoreCopies(options, manifest)
  if (treeChecksum(manifest.entries) !== manifest.checksum) {
    throw new DevenvError(
      'SNAPSHOT',
      `the manifest of snapshot ${name} of ${service} does not match its own checksum`,
      { hint: 'The snapshot was edited or damaged; it cannot be trusted.' },
    )
  }
  const prepared = await prepareRestore(paths, service, manifest, options.linkFiles)
  let downtimeMs = 0
  try {
    const stoppedAt = performance.now()
    const resume = await options.quiesce()
    try {
      commitRestore(paths, service, prepared)
      await swapIn(paths, service, prepared.id)
    } finally {
      await resume()
      downtimeMs = performance.now() - stoppedAt
    }
  } catch (error) {
    if (prepared.phase === 'preparing') await abandonRestore(paths, service, prepared)
    throw error
  }
  return {
    service,
    snapshot: name,
    checksum: manifest.checksum,
    size: manifest.size,
    downtimeMs: Math.round(downtimeMs),
  }
}

async function restoreCopies(options: RestoreOptions, manifest: SnapshotManifest): Promise<RestoreResult> {
  const prepared = await prepareCopiesRestore(options.paths, manifest, options.copies)
  const started = performance.now()
  await commitCopiesRestore(options.paths, prepared)
  const downtimeMs = Math.round(performance.now() - started)
  return {
    service: manifest.service,
    snapshot: manifest.name,
    checksum: manifest.checksum,
    size: manifest.size,
    downtimeMs,
    fromSpare: prepared.swap.fromSpare,
  }
}

type RestoreJournal = Extract<Journal, { op: 'restore' }>

/** Step 1: the verified copy beside the current state, and a journal saying it is not yet committed. */
export async function prepareRestore(
  paths: ProjectPaths,
  service: string,
  manifest: SnapshotManifest,
  linkFiles = false,
): Promise<RestoreJournal> {
  const journal: RestoreJournal = {
    op: 'restore',
    id: newOperationId(),
    ...journalBase(),
    snapshot: manifest.name,
    phase: 'preparing',
  }
  await beginOperation(paths, service, journal)
  const restoring = restoreDirOf(paths, service, journal.id)
  try {
    crashPoint('restore:journal-written')
    const expect = new Map(manifest.entries.map((entry) => [entry.path, entry]))
    const copied = await copyTree(snapshotData(paths, manifest.service, manifest.name), restoring, {
      hash: true,
      durable: true,
      expect,
      link: linkFiles,
    })
    crashPoint('restore:copied')
    if (treeChecksum(copied) !== manifest.checksum) {
      throw new DevenvError(
        'SNAPSHOT',
        `snapshot ${manifest.name} of ${service} does not match its recorded checksum`,
        { hint: 'Files were added to or removed from the snapshot folder; it cannot be restored as it is.' },
      )
    }
    fsyncFolder(paths.serviceDir(service))
    return journal
  } catch (error) {
    await abandonRestore(paths, service, journal)
    throw error
  }
}

async function abandonRestore(paths: ProjectPaths, service: string, journal: RestoreJournal): Promise<void> {
  await removeTree(restoreDirOf(paths, service, journal.id))
  removeJournal(paths, service)
}

/** Step 2, the commit point: from here on, recovery finishes the swap instead of undoing it. */
function commitRestore(paths: ProjectPaths, service: string, journal: RestoreJournal): void {
  crashPoint('restore:before-commit')
  journal.phase = 'swapping'
  updateJournal(paths, service, journal)
  crashPoint('restore:committed')
}

/** Step 3: two renames in one folder, then cleanup. */
export async function swapIn(paths: ProjectPaths, service: string, id: string): Promise<void> {
  const data = paths.serviceData(service)
  const old = oldDirOf(paths, service, id)
  if (await exists(data)) await fs.rename(data, old)
  crashPoint('restore:old-moved')
  await fs.rename(restoreDirOf(paths, service, id), data)
  fsyncFolder(paths.serviceDir(service))
  crashPoint('restore:new-in-place')
  await removeTree(old)
  crashPoint('restore:old-removed')
  removeJournal(paths, service)
}

export const RESTORE_CRASH_POINTS = [
  'restore:journal-written',
  'restore:copied',
  'restore:before-commit',
  'restore:committed',
  'restore:old-moved',
  'restore:new-in-place',
  'restore:old-removed',
] as const
