import path from 'node:path'
import { readJson, writeJsonAtomic } from '../../state/atomic.js'
import { withFileLock } from '../../state/lock.js'

/**
 * Which snapshot copies in this cluster belong to snapshots, kept in the data folder beside the
 * cluster (snapshot-copies.json), so that the background upkeep knows what to keep and which
 * copy deserves a ready spare without reading the project's snapshot manifests:
 *   copies   every registered copy; `checksum` is empty until the copy is complete and hashed
 *   ready    per database, the copy whose verified spare makes the next restore a rename
 * A `__snap_` database that is not registered is debris (a save killed before it registered
 * the copy cannot happen: it registers first) or came with a committed box; upkeep drops it.
 */
export interface CopyRegistration {
  database: string
  snapshot: string
  checksum: string
}

export interface SnapshotRegistry {
  copies: Record<string, CopyRegistration>
  ready: Record<string, string>
}

export const REGISTRY_FILE = 'snapshot-copies.json'

function registryFile(dataDir: string): string {
  return path.join(dataDir, REGISTRY_FILE)
}

export function readRegistry(dataDir: string): SnapshotRegistry {
  const stored = readJson<Partial<SnapshotRegistry>>(registryFile(dataDir))
  return { copies: stored?.copies ?? {}, ready: stored?.ready ?? {} }
}

/** Read, change, write atomically, under a lock: the CLI and the upkeep process both read it. */
export async function updateRegistry(dataDir: string, change: (registry: SnapshotRegistry) => void): Promise<SnapshotRegistry> {
  return withFileLock(registryFile(dataDir), () => {
    const registry = readRegistry(dataDir)
    change(registry)
    writeJsonAtomic(registryFile(dataDir), registry, 0o600)
    return registry
  })
}
