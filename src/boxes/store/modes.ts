import { treeChecksum, type TreeEntry } from '../../util/tree.js'
import type { BoxRecord } from './record.js'

/** Files a box keeps secrets in: the PostgreSQL superuser's password, keys. Owner only, whatever the archive says. */
const SECRET_FILE = /(^|\/)(superuser\.json|[^/]*password[^/]*|[^/]*\.key|[^/]*key\.pem)$/i

/**
 * The mode an imported entry gets: never more than its archive says, never group- or
 * other-writable, never setuid/setgid/sticky; folders at most 0755, programs at most 0755,
 * other files at most 0644, secrets 0600. The owner keeps read and write (and search on folders)
 * so the box can be copied and removed.
 */
export function importedMode(entry: TreeEntry): number | undefined {
  if (entry.type === 'symlink') return undefined
  if (entry.type === 'dir') return (entry.mode & 0o755) | 0o700
  if (SECRET_FILE.test(entry.path)) return 0o600
  return (entry.mode & (entry.mode & 0o100 ? 0o755 : 0o644)) | 0o600
}

/** The record with every mode as it is imported; its checksum recomputed only when a mode changed. */
export function withImportedModes(record: BoxRecord): BoxRecord {
  let changed = false
  const entries = record.entries.map((entry): TreeEntry => {
    const mode = importedMode(entry)
    if (mode === undefined || entry.type === 'symlink' || mode === entry.mode) return entry
    changed = true
    return { ...entry, mode }
  })
  return changed ? { ...record, entries, checksum: treeChecksum(entries) } : record
}
