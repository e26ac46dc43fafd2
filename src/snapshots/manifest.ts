import { readdirSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { readJson } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import type { CopyRecord } from './service-copies.js'
import type { TreeEntry } from '../util/tree.js'

export const SNAPSHOT_FORMAT = 'devenv-snapshot/1'

/** manifest.json of a snapshot: what it is, what it came from, and every entry with its checksum. */
export interface SnapshotManifest {
  format: typeof SNAPSHOT_FORMAT
  name: string
  service: string
  /** The box as the envfile names it: `postgres`, or `mydb:v2` for a committed box. */
  box: string
  /** The box's base kind (postgres, mail...). */
  kind: string
  /** The box version the state belongs to (for postgres, the major version of the cluster). */
  boxVersion: string
  created: string
  /** Bytes of file content. */
  size: number
  files: number
  /** sha256 over the sorted list of entries (type, path, size, sha256): see treeChecksum(). */
  checksum: string
  /** Set when the snapshot was taken with --all, under the same name as its siblings. */
  set?: boolean
  /**
   * 'files' (the default): data/ holds a copy of the data folder, listed in `entries`.
   * 'copies': the state is kept inside the service (PostgreSQL template databases), listed in
   * `copies`; `entries` is empty and `checksum` is copiesChecksum(copies).
   */
  storage?: 'files' | 'copies'
  copies?: CopyRecord[]
  entries: TreeEntry[]
}

export type SnapshotInfo = Omit<SnapshotManifest, 'entries' | 'format'>

/** Layout: .devenv/snapshots/<service>/<name>/{manifest.json,data/}. Names starting with '.' are work in progress. */
export function snapshotDir(paths: ProjectPaths, service: string, name: string): string {
  return path.join(paths.snapshots, service, name)
}

export function snapshotData(paths: ProjectPaths, service: string, name: string): string {
  return path.join(snapshotDir(paths, service, name), 'data')
}

export function manifestFile(folder: string): string {
  return path.join(folder, 'manifest.json')
}

export function readManifest(paths: ProjectPaths, service: string, name: string): SnapshotManifest | undefined {
  const manifest = readJson<SnapshotManifest>(manifestFile(snapshotDir(paths, service, name)))
  return manifest?.format === SNAPSHOT_FORMAT ? manifest : undefined
}

export function requireManifest(paths: ProjectPaths, service: string, name: string): SnapshotManifest {
  const manifest = readManifest(paths, service, name)
  if (!manifest) {
    const known = snapshotNames(paths, service)
    throw new DevenvError('NOT_FOUND', `no snapshot ${name} of ${service}`, {
      hint: known.length
        ? `Snapshots of ${service}: ${known.join(', ')}.`
        : `${service} has no snapshots; take one with devenv snapshot save ${service}.`,
    })
  }
  return manifest
}

export function snapshotNames(paths: ProjectPaths, service: string): string[] {
  try {
    return readdirSync(path.join(paths.snapshots, service))
      .filter((name) => !name.startsWith('.'))
      .sort()
  } catch {
    return []
  }
}

export function snapshotServices(paths: ProjectPaths): string[] {
  try {
    return readdirSync(paths.snapshots, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
      .map((entry) => entry.name)
      .sort()
  } catch {
    return []
  }
}

export function infoOf(manifest: SnapshotManifest): SnapshotInfo {
  const { entries: _entries, format: _format, ...info } = manifest
  return info
}
