import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fsyncFolder } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import { busyError, ownerAlive, readJournal, removeJournal, type Journal } from './journal.js'
import { exists, removeTree } from '../util/tree.js'

export type RecoveryAction = 'none' | 'rolled-back' | 'rolled-forward' | 'cleaned'

export interface RecoveryResult {
  service: string
  action: RecoveryAction
  /** The operation that was interrupted, when there was one. */
  interrupted?: Journal['op']
}

export function restoreDirOf(paths: ProjectPaths, service: string, id: string): string {
  return path.join(paths.serviceDir(service), `data.restore-${id}`)
}

export function oldDirOf(paths: ProjectPaths, service: string, id: string): string {
  return path.join(paths.serviceDir(service), `data.old-${id}`)
}

export function partialSnapshotDir(paths: ProjectPaths, service: string, id: string): string {
  return path.join(paths.snapshots, service, `.partial-${id}`)
}

/**
 * Finishes or undoes a snapshot operation that was killed, and removes its leftovers. Call it
 * before starting a service: afterwards `data` is whole: the state before the restore, or the
 * restored one. See docs/snapshots.md for why every interruption point ends in one of those.
 * Throws when another live process is in the middle of an operation on this service.
 */
export async function recoverServiceData(
  paths: ProjectPaths,
  service: string,
  options: { whenBusy?: 'throw' | 'skip' } = {},
): Promise<RecoveryResult> {
  const journal = readJournal(paths, service)
  if (journal && ownerAlive(journal)) {
    // The runtime starting a service that a live snapshot operation resumed: that operation owns the leftovers.
    if (options.whenBusy === 'skip') return { service, action: 'none' }
    throw busyError(service, journal)
  }
  const serviceDir = paths.serviceDir(service)
  const data = paths.serviceData(service)
  let action: RecoveryAction = 'none'

  if (journal?.op === 'restore') {
    const restoring = restoreDirOf(paths, service, journal.id)
    const old = oldDirOf(paths, service, journal.id)
    if (journal.phase === 'preparing') {
      // Before the commit point `data` was never touched: drop the half-made copy.
      await removeTree(restoring)
      action = 'rolled-back'
    } else {
      // After the commit point the restored copy is whole and verified: finish the swap.
      if (await exists(restoring)) {
        if (await exists(data)) await fs.rename(data, old)
        await fs.rename(restoring, data)
        fsyncFolder(serviceDir)
      }
      await removeTree(old)
      action = 'rolled-forward'
    }
  } else if (journal?.op === 'save') {
    await removeTree(partialSnapshotDir(paths, service, journal.id))
    action = 'cleaned'
  } else if (journal?.op === 'commit') {
    action = 'cleaned'
  }
  if (journal) removeJournal(paths, service)
  if (await removeLeftovers(serviceDir, data)) action = action === 'none' ? 'cleaned' : action
  return { service, action, ...(journal ? { interrupted: journal.op } : {}) }
}

/**
 * Without a journal no operation is under way, so data.restore-* and data.old-* are debris
 * (a journal removed by hand, a crash during a previous cleanup). Should `data` itself be
 * missing, the newest data.old-* is the last whole state and is put back rather than deleted.
 */
async function removeLeftovers(serviceDir: string, data: string): Promise<boolean> {
  let names: string[]
  try {
    names = await fs.readdir(serviceDir)
  } catch {
    return false
  }
  const debris = names.filter(
    (name) =>
      name.startsWith('data.restore-') ||
      name.startsWith('data.old-') ||
      name.startsWith('data.seed-') ||
      name.startsWith('.snapshot-journal.'),
  )
  if (!debris.length) return false
  const olds = debris.filter((name) => name.startsWith('data.old-')).sort()
  if (!(await exists(data)) && olds.length) {
    const newest = olds.pop()!
    await fs.rename(path.join(serviceDir, newest), data)
    fsyncFolder(serviceDir)
    debris.splice(debris.indexOf(newest), 1)
  }
  for (const name of debris) await removeTree(path.join(serviceDir, name))
  return true
}
