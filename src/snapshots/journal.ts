import { randomBytes } from 'node:crypto'
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  rmSync,
  unlinkSync,
  writeSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { fsyncFolder, readJson, writeJsonAtomic } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'

/**
 * The journal of a snapshot operation on one service: it exists from before the operation
 * touches anything until after it has finished, so it is both the lock (one operation per
 * service) and the record recovery reads to finish or undo a killed operation.
 */
export type Journal =
  | { op: 'save'; id: string; pid: number; host: string; startedAt: string; snapshot: string }
  | { op: 'commit'; id: string; pid: number; host: string; startedAt: string }
  /** phase 'preparing': data.restore-<id> may be incomplete; 'swapping': it is complete and verified, and wins. */
  | {
      op: 'restore'
      id: string
      pid: number
      host: string
      startedAt: string
      snapshot: string
      phase: 'preparing' | 'swapping'
    }

export function journalFile(paths: ProjectPaths, service: string): string {
  return path.join(paths.serviceDir(service), 'snapshot-journal.json')
}

/**
 * Operations this process began: a runtime that starts services in the caller's own process (the
 * docker provider) prepares a service's data while the snapshot that stopped it is still running,
 * and must not take that operation for one left by a dead process that had the same pid.
 */
const begunHere = new Set<string>()

export function newOperationId(): string {
  const id = `${Date.now().toString(36)}${randomBytes(4).toString('hex')}`
  begunHere.add(id)
  return id
}

export function readJournal(paths: ProjectPaths, service: string): Journal | undefined {
  return readJson<Journal>(journalFile(paths, service))
}

/** True while the process that wrote the journal is alive on this machine. */
export function ownerAlive(journal: Journal): boolean {
  if (journal.host !== os.hostname()) return true
  if (journal.pid === process.pid) return begunHere.has(journal.id)
  try {
    process.kill(journal.pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

export function busyError(service: string, journal: Journal): DevenvError {
  return new DevenvError(
    'SNAPSHOT',
    `a snapshot ${journal.op} of ${service} is in progress (pid ${journal.pid} on ${journal.host})`,
    {
      hint: 'Wait for it to finish, then try again.',
    },
  )
}

/**
 * Creates the journal only if none exists: written aside and hard-linked into place, so the
 * file appears whole and a second operation finds it (EEXIST) instead of overwriting it.
 */
export function createJournal(paths: ProjectPaths, service: string, journal: Journal): boolean {
  const file = journalFile(paths, service)
  const folder = path.dirname(file)
  mkdirSync(folder, { recursive: true })
  const temporary = path.join(folder, `.snapshot-journal.${journal.id}.tmp`)
  const fd = openSync(temporary, 'w', 0o644)
  try {
    writeSync(fd, `${JSON.stringify(journal, null, 2)}\n`)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temporary, file)
    fsyncFolder(folder)
    removeStaleDrafts(folder, temporary)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    rmSync(temporary, { force: true })
  }
}

/**
 * Drafts of journals that never became one: a process killed between writing its draft and linking
 * it. Whoever holds the journal may remove them: another draft now can only fail to link, and its
 * writer removes it anyway.
 */
function removeStaleDrafts(folder: string, own: string): void {
  for (const name of readdirSync(folder)) {
    const draft = path.join(folder, name)
    if (draft !== own && /^\.snapshot-journal\..+\.tmp$/.test(name)) rmSync(draft, { force: true })
  }
}

export function updateJournal(paths: ProjectPaths, service: string, journal: Journal): void {
  writeJsonAtomic(journalFile(paths, service), journal)
}

export function removeJournal(paths: ProjectPaths, service: string): void {
  try {
    unlinkSync(journalFile(paths, service))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  fsyncFolder(paths.serviceDir(service))
}

export function journalBase(): { pid: number; host: string; startedAt: string } {
  return { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }
}
