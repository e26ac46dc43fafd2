import path from 'node:path'
import { readJson, writeJsonAtomic } from '../../state/index.js'
import { withFileLock } from '../../state/index.js'

/**
 * Which snapshot copies in this cluster belong to snapshots, kept in the data folder beside the
 * cluster (snapshot-copies.json), so that the background upkeep knows what to keep and which
 * copy deserves a ready spare without reading the project's snapshot manifests:
 *   copies   every registered copy; `checksum` is empty until the copy is complete and hashed
 *   ready    per database, the copy saved or restored last: it always gets a verified spare,
 *            which makes the next restore a rename (see readySpares for the others)
 * A `__snap_` database that is not registered is debris (a save killed before it registered
 * the copy cannot happen: it registers first) or came with a committed box; upkeep drops it.
 */
export interface CopyRegistration {
  database: string
  snapshot: string
  checksum: string
  /** Bytes of the copy's files, once hashed. */
  size?: number
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

/** Spare budget when DEVENV_SNAPSHOT_SPARES_MIB does not say: small development databases get a spare for every snapshot. */
const DEFAULT_SPARES_MIB = 512

function sparesBudget(): number {
  const configured = Number(process.env.DEVENV_SNAPSHOT_SPARES_MIB)
  return (Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_SPARES_MIB) * 1024 * 1024
}

/**
 * The copies of `database` that deserve a ready spare: the one saved or restored last, always;
 * then the newest others while their spares fit in the budget (512 MiB unless
 * DEVENV_SNAPSHOT_SPARES_MIB says otherwise), so that restoring any recent snapshot of a small
 * database is a rename too, at twice its disk.
 */
export function readySpares(registry: SnapshotRegistry, database: string): string[] {
  const ready = registry.ready[database]
  const complete = Object.entries(registry.copies).filter(([, copy]) => copy.database === database && copy.checksum)
  const wanted = ready && complete.some(([name]) => name === ready) ? [ready] : []
  let budget = sparesBudget() - (wanted.length ? (registry.copies[ready!]!.size ?? 0) : 0)
  // Copy names end in the operation id, which starts with the time in base 36: newest first.
  for (const [name, copy] of complete.sort(([a], [b]) => (a < b ? 1 : a > b ? -1 : 0))) {
    if (name === ready || copy.size === undefined || copy.size > budget) continue
    wanted.push(name)
    budget -= copy.size
  }
  return wanted
}
