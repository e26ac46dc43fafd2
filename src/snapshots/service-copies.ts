import { createHash } from 'node:crypto'
import type { CopyRecord, ServiceCopies } from '../boxes/index.js'

export type { CopyRecord, PreparedSwap, ServiceCopies } from '../boxes/index.js'

export interface ServiceCopiesSession {
  copies: ServiceCopies
  /** Puts the service back as it was found (stops it again if it was started for this). */
  close(): Promise<void>
}

/**
 * Opens a service's copies. With `start`, a stopped service is started for the operation (a
 * copy can only be made or swapped in by the running server); without it, a stopped service's
 * copies are only unregistered, and its upkeep drops them at its next start.
 */
export type OpenServiceCopies = (options: { start: boolean }) => Promise<ServiceCopiesSession>

/** Runs `work` on a service's copies, and puts the service back as it was found after. */
export async function withServiceCopies<T>(
  open: OpenServiceCopies,
  options: { start: boolean },
  work: (copies: ServiceCopies) => Promise<T>,
): Promise<T> {
  const session = await open(options)
  try {
    return await work(session.copies)
  } finally {
    await session.close()
  }
}

/** The checksum a manifest records for its copies: over each copy's database, name and checksum. */
export function copiesChecksum(copies: CopyRecord[]): string {
  const hash = createHash('sha256')
  for (const copy of [...copies].sort((a, b) => (a.database < b.database ? -1 : a.database > b.database ? 1 : 0))) {
    hash.update(`copy\0${copy.database}\0${copy.copy}\0${copy.size}\0${copy.checksum}\n`)
  }
  return `sha256:${hash.digest('hex')}`
}
