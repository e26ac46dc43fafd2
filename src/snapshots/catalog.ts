import { promises as fs } from 'node:fs'
import path from 'node:path'
import { fsyncFolder } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import {
  infoOf,
  readManifest,
  requireManifest,
  snapshotDir,
  snapshotNames,
  snapshotServices,
  type SnapshotInfo,
} from './manifest.js'
import { validateServiceName, validateSnapshotName } from './names.js'
import { newOperationId } from './journal.js'
import { removeTree } from '../util/tree.js'
import { withServiceCopies, type OpenServiceCopies } from './service-copies.js'

/** Snapshots of one service, or of every service, oldest first. Folders without a readable manifest are not snapshots. */
export function listSnapshots(paths: ProjectPaths, service?: string): SnapshotInfo[] {
  const services = service ? [validateServiceName(service)] : snapshotServices(paths)
  const found: SnapshotInfo[] = []
  for (const each of services) {
    for (const name of snapshotNames(paths, each)) {
      const manifest = readManifest(paths, each, name)
      if (manifest) found.push(infoOf(manifest))
    }
  }
  return found.sort((a, b) => a.created.localeCompare(b.created) || a.service.localeCompare(b.service))
}

/**
 * Removes a snapshot: renamed out of sight first, so it never shows half-deleted. The copies a
 * snapshot kept inside its service are dropped when the service runs, else when it next starts.
 */
export async function deleteSnapshot(
  paths: ProjectPaths,
  service: string,
  name: string,
  copies?: OpenServiceCopies,
): Promise<SnapshotInfo> {
  const manifest = requireManifest(paths, validateServiceName(service), validateSnapshotName(name))
  const folder = snapshotDir(paths, service, name)
  const doomed = path.join(path.dirname(folder), `.deleting-${newOperationId()}`)
  await fs.rename(folder, doomed)
  fsyncFolder(path.dirname(folder))
  await removeTree(doomed)
  const names = manifest.copies?.map((copy) => copy.copy) ?? []
  if (names.length && copies) await withServiceCopies(copies, { start: false }, (service) => service.drop(names))
  return infoOf(manifest)
}
