import { promises as fs } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { fsyncFolder, writeJsonAtomic } from '../state/index.js'
import type { ProjectPaths } from '../state/index.js'
import { crashPoint } from '../util/crash-points.js'
import { journalBase, newOperationId, removeJournal } from './journal.js'
import {
  manifestFile,
  readManifest,
  snapshotDir,
  snapshotNames,
  SNAPSHOT_FORMAT,
  type SnapshotManifest,
} from './manifest.js'
import { beginOperation } from './operation.js'
import { partialSnapshotDir } from './recover.js'
import {
  copiesChecksum,
  type OpenServiceCopies,
  type PreparedSwap,
  type ServiceCopiesSession,
} from './service-copies.js'
import { removeTree } from '../util/tree.js'

export interface CopiesSnapshotIdentity {
  service: string
  box: string
  kind: string
  boxVersion: string
  set?: boolean
}

/** Every copy the published snapshots of `service` name: what the service must keep. */
export function copiesInUse(paths: ProjectPaths, service: string): Set<string> {
  const names = new Set<string>()
  for (const name of snapshotNames(paths, service)) {
    for (const copy of readManifest(paths, service, name)?.copies ?? []) names.add(copy.copy)
  }
  return names
}

/**
 * A snapshot kept inside the service: the copies are made (and registered with the service)
 * first, then the manifest naming them is published by one rename. A save killed before that
 * leaves copies no manifest names, which the next operation on the service drops.
 */
export async function saveCopiesSnapshot(
  paths: ProjectPaths,
  identity: CopiesSnapshotIdentity,
  name: string,
  open: OpenServiceCopies,
): Promise<SnapshotManifest> {
  const { service } = identity
  const id = newOperationId()
  await beginOperation(paths, service, { op: 'save', id, ...journalBase(), snapshot: name })
  const partial = partialSnapshotDir(paths, service, id)
  let session: ServiceCopiesSession | undefined
  let made: string[] = []
  try {
    session = await open({ start: true })
    await session.copies.recover(copiesInUse(paths, service))
    const copies = await session.copies.save(id, name)
    made = copies.map((copy) => copy.copy)
    crashPoint('save:copied')
    const manifest: SnapshotManifest = {
      format: SNAPSHOT_FORMAT,
      name,
      service,
      box: identity.box,
      kind: identity.kind,
      boxVersion: identity.boxVersion,
      created: new Date().toISOString(),
      size: copies.reduce((sum, copy) => sum + copy.size, 0),
      files: copies.reduce((sum, copy) => sum + copy.files, 0),
      checksum: copiesChecksum(copies),
      ...(identity.set ? { set: true } : {}),
      storage: 'copies',
      copies,
      entries: [],
    }
    await fs.mkdir(partial, { recursive: true, mode: 0o700 })
    writeJsonAtomic(manifestFile(partial), manifest)
    fsyncFolder(partial)
    try {
      await fs.rename(partial, snapshotDir(paths, service, name))
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'ENOTEMPTY' || code === 'EEXIST')
        throw new DevenvError('EXISTS', `snapshot ${name} of ${service} already exists`)
      throw error
    }
    made = []
    fsyncFolder(path.dirname(snapshotDir(paths, service, name)))
    crashPoint('save:published')
    return manifest
  } catch (error) {
    await removeTree(partial)
    if (session && made.length) await session.copies.drop(made).catch(() => undefined)
    throw error
  } finally {
    await session?.close()
    removeJournal(paths, service)
  }
}

export interface PreparedCopiesRestore {
  manifest: SnapshotManifest
  swap: PreparedSwap
  session: ServiceCopiesSession
}

/** Step 1 of a restore of a snapshot kept inside the service: verified replacements beside the live state. */
export async function prepareCopiesRestore(
  paths: ProjectPaths,
  manifest: SnapshotManifest,
  open: OpenServiceCopies | undefined,
): Promise<PreparedCopiesRestore> {
  const { service } = manifest
  if (!open)
    throw new DevenvError(
      'SNAPSHOT',
      `snapshot ${manifest.name} is kept inside a ${manifest.kind} service, and ${service} cannot hold it`,
    )
  const copies = manifest.copies ?? []
  if (copiesChecksum(copies) !== manifest.checksum) {
    throw new DevenvError(
      'SNAPSHOT',
      `the manifest of snapshot ${manifest.name} of ${service} does not match its own checksum`,
      { hint: 'The snapshot was edited or damaged; it cannot be trusted.' },
    )
  }
  await beginOperation(paths, service, {
    op: 'restore',
    id: newOperationId(),
    ...journalBase(),
    snapshot: manifest.name,
    phase: 'preparing',
  })
  let session: ServiceCopiesSession | undefined
  try {
    crashPoint('restore:journal-written')
    session = await open({ start: true })
    await session.copies.recover(copiesInUse(paths, service))
    const swap = await session.copies.prepare(copies)
    return { manifest, swap, session }
  } catch (error) {
    await session?.close().catch(() => undefined)
    removeJournal(paths, service)
    throw error
  }
}

/** Step 2: the swap, one transaction inside the service: the commit point. */
export async function commitCopiesRestore(paths: ProjectPaths, prepared: PreparedCopiesRestore): Promise<void> {
  try {
    await prepared.swap.commit()
  } finally {
    await prepared.session.close()
    removeJournal(paths, prepared.manifest.service)
  }
}

export async function abandonCopiesRestore(paths: ProjectPaths, prepared: PreparedCopiesRestore): Promise<void> {
  try {
    await prepared.swap.abandon().catch(() => undefined)
  } finally {
    await prepared.session.close()
    removeJournal(paths, prepared.manifest.service)
  }
}
