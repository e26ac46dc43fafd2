import type { ProjectPaths } from '../state/index.js'
import { busyError, createJournal, ownerAlive, readJournal, type Journal } from './journal.js'
import { recoverServiceData } from './recover.js'

/**
 * Takes the service's journal for a new operation. A journal left by a dead process is
 * recovered first (its operation finished or undone); one held by a live process means busy.
 */
export async function beginOperation(paths: ProjectPaths, service: string, journal: Journal): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    if (createJournal(paths, service, journal)) return
    const existing = readJournal(paths, service)
    if (existing && ownerAlive(existing)) throw busyError(service, existing)
    await recoverServiceData(paths, service)
  }
  throw busyError(service, readJournal(paths, service) ?? journal)
}
