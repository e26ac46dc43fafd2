import { promises as fs } from 'node:fs'
import path from 'node:path'
import { DevenvError, diskFullError } from '../errors.js'
import { fsyncFolder, writeJsonAtomic } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import { crashPoint } from '../util/crash-points.js'
import { journalBase, newOperationId, removeJournal } from './journal.js'
import { manifestFile, snapshotDir, SNAPSHOT_FORMAT, type SnapshotManifest } from './manifest.js'
import { generatedSnapshotName, validateServiceName, validateSnapshotName } from './names.js'
import { beginOperation } from './operation.js'
import type { Quiesce } from './quiesce.js'
import { saveCopiesSnapshot } from './copies-snapshot.js'
import type { OpenServiceCopies } from './service-copies.js'
import { partialSnapshotDir } from './recover.js'
import { copyTree, exists, removeTree, summarise, syncTree, treeBytes } from '../util/tree.js'

export interface SaveOptions {
  paths: ProjectPaths
  service: string
  /** The box as the envfile names it, and its base kind and version: recorded, checked on restore. */
  box: string
  kind: string
  boxVersion: string
  /** Default: the date and time. */
  name?: string
  /** Makes the data folder safe to copy (stop or checkpoint); what it returns is called once the copy is made. */
  quiesce: Quiesce
  /** Part of a set taken with --all. */
  set?: boolean
  /** For a service that keeps its snapshots inside itself (postgres): how to reach them. */
  copies?: OpenServiceCopies
  /** The box never changes a file in place: hard-link files instead of copying them. */
  linkFiles?: boolean
}

/**
 * A service that keeps copies inside itself (postgres) saves there; any other copies its data
 * folder into .devenv/snapshots/<service>/<name>/. The service is
 * quiesced only while the files are copied; hashing and the manifest happen after it is back.
 * The snapshot appears under its name in one rename, complete, or not at all.
 */
export async function saveSnapshot(options: SaveOptions): Promise<SnapshotManifest> {
  const { paths } = options
  const service = validateServiceName(options.service)
  const name = validateSnapshotName(options.name ?? generatedSnapshotName())
  const data = paths.serviceData(service)
  const target = snapshotDir(paths, service, name)
  if (await exists(target)) {
    throw new DevenvError('EXISTS', `snapshot ${name} of ${service} already exists`, {
      hint: `Pick another name, or delete it first: devenv snapshot delete ${service} ${name}.`,
    })
  }
  if (!(await exists(data))) {
    throw new DevenvError('SNAPSHOT', `service ${service} has no state to snapshot yet (${data} does not exist)`, {
      hint: 'Start it once with devenv up, so that it creates its data.',
    })
  }
  if (options.copies) {
    const identity = {
      service,
      box: options.box,
      kind: options.kind,
      boxVersion: options.boxVersion,
      ...(options.set ? { set: true } : {}),
    }
    return saveCopiesSnapshot(paths, identity, name, options.copies)
  }
  const id = newOperationId()
  await beginOperation(paths, service, { op: 'save', id, ...journalBase(), snapshot: name })
  const partial = partialSnapshotDir(paths, service, id)
  try {
    await fs.mkdir(partial, { recursive: true, mode: 0o700 })
    const resume = await options.quiesce()
    let copied: Awaited<ReturnType<typeof copyTree>>
    try {
      copied = await copyTree(data, path.join(partial, 'data'), {
        hash: true,
        ...(options.linkFiles ? { link: true } : {}),
      })
    } finally {
      await resume()
    }
    crashPoint('save:copied')
    const summary = summarise(copied)
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      name,
      service,
      box: options.box,
      kind: options.kind,
      boxVersion: options.boxVersion,
      created: new Date().toISOString(),
      size: summary.size,
      files: summary.files,
      checksum: summary.checksum,
      ...(options.set ? { set: true } : {}),
      entries: summary.entries,
    }
    await syncTree(path.join(partial, 'data'), summary.entries)
    writeJsonAtomic(manifestFile(partial), manifest)
    fsyncFolder(partial)
    try {
      await fs.rename(partial, target)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        throw new DevenvError('EXISTS', `snapshot ${name} of ${service} already exists`)
      throw error
    }
    fsyncFolder(path.dirname(target))
    crashPoint('save:published')
    return manifest
  } catch (error) {
    await removeTree(partial)
    // A full disk names the snapshot folder and what the copy needs: the data folder's size.
    throw diskFullError(error, path.dirname(partial), await treeBytes(data)) ?? error
  } finally {
    removeJournal(paths, service)
  }
}
