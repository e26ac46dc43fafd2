import { createHash } from 'node:crypto'

/**
 * State a service keeps copies of inside itself (PostgreSQL: template databases in its own
 * cluster), restored by a swap in the running service instead of a file copy and a restart.
 * The snapshot module records and orchestrates; the box does the work (boxes/postgres/snapshot-copies).
 */
export interface CopyRecord {
  database: string
  /** The copy's name inside the service. */
  copy: string
  size: number
  files: number
  /** Tree checksum of the copy's files. */
  checksum: string
}

export interface PreparedSwap {
  /** Every replacement was a ready, verified spare: the swap is a rename. */
  fromSpare: boolean
  commit(): Promise<void>
  abandon(): Promise<void>
}

export interface ServiceCopies {
  save(id: string, snapshot: string): Promise<CopyRecord[]>
  /** Replacements beside the live state, verified against the records; nothing visible changes yet. */
  prepare(copies: CopyRecord[]): Promise<PreparedSwap>
  drop(copies: string[]): Promise<void>
  /**
   * Cleans up after a killed operation: databases left closed to connections are opened again,
   * and copies no snapshot names any more (a save killed before it published its manifest) dropped.
   */
  recover(keep: Set<string>): Promise<void>
  /**
   * Paths in the data folder, relative to it, that hold no state of the service's own: the
   * snapshot copies and their spares. A committed box leaves them out.
   */
  notState(): Promise<string[]>
}

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
export async function withServiceCopies<T>(open: OpenServiceCopies, options: { start: boolean }, work: (copies: ServiceCopies) => Promise<T>): Promise<T> {
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
