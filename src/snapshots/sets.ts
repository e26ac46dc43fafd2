import { DevenvError } from '../errors.js'
import type { ProjectPaths } from '../state/index.js'
import { deleteSnapshot } from './catalog.js'
import { removeJournal, updateJournal, type Journal } from './journal.js'
import { requireManifest, type SnapshotManifest } from './manifest.js'
import { generatedSnapshotName, validateSnapshotName } from './names.js'
import type { Quiesce, Resume } from './quiesce.js'
import { restoreDirOf } from './recover.js'
import { checkCompatible, prepareRestore, swapIn, type RestoreResult } from './restore.js'
import { saveSnapshot } from './save.js'
import { removeTree, treeChecksum } from '../util/tree.js'
import {
  abandonCopiesRestore,
  commitCopiesRestore,
  prepareCopiesRestore,
  type PreparedCopiesRestore,
} from './copies-snapshot.js'
import type { OpenServiceCopies } from './service-copies.js'

export interface SetMember {
  service: string
  box: string
  kind: string
  boxVersion: string
  quiesce: Quiesce
  copies?: OpenServiceCopies
  linkFiles?: boolean
}

/** `--all`: every stateful service saved under one name. All or nothing: a failure removes the members already saved. */
export async function saveSnapshotSet(
  paths: ProjectPaths,
  members: SetMember[],
  name?: string,
): Promise<SnapshotManifest[]> {
  if (!members.length) throw new DevenvError('SNAPSHOT', 'the project has no stateful service to snapshot')
  const setName = validateSnapshotName(name ?? generatedSnapshotName())
  const saved: SnapshotManifest[] = []
  try {
    for (const member of members) {
      saved.push(await saveSnapshot({ paths, ...member, name: setName, set: true }))
    }
  } catch (error) {
    for (const [index, manifest] of saved.entries())
      await deleteSnapshot(paths, manifest.service, manifest.name, members[index]!.copies).catch(() => undefined)
    throw error
  }
  return saved
}

/**
 * `--all`: every member restored from the snapshot of that name. Every replacement is prepared
 * and verified before anything is swapped: file copies beside the data folders, and the copies
 * kept inside services (postgres) cloned or taken from their spares. Then the file-kept services
 * are stopped, everything is swapped, and they are started again. Each service's swap is atomic
 * on its own (see restoreSnapshot).
 */
export async function restoreSnapshotSet(
  paths: ProjectPaths,
  members: SetMember[],
  name: string,
  force = false,
): Promise<RestoreResult[]> {
  if (!members.length) throw new DevenvError('SNAPSHOT', 'the project has no stateful service to restore')
  validateSnapshotName(name)
  const manifests = members.map((member) => requireManifest(paths, member.service, name))
  members.forEach((member, index) => checkCompatible(manifests[index]!, member.box, member.boxVersion, force))
  for (const manifest of manifests) {
    if (manifest.storage !== 'copies' && treeChecksum(manifest.entries) !== manifest.checksum)
      throw new DevenvError(
        'SNAPSHOT',
        `the manifest of snapshot ${name} of ${manifest.service} does not match its own checksum`,
      )
  }
  const files: Array<{ member: SetMember; journal: RestoreJournal }> = []
  const inService: PreparedCopiesRestore[] = []
  const resumes: Resume[] = []
  let started = 0
  try {
    for (const [index, manifest] of manifests.entries()) {
      const member = members[index]!
      if (manifest.storage === 'copies') {
        inService.push(await prepareCopiesRestore(paths, manifest, member.copies))
      } else {
        files.push({ member, journal: await prepareRestore(paths, member.service, manifest, member.linkFiles) })
      }
    }
    started = performance.now()
    for (const { member } of files) resumes.push(await member.quiesce())
  } catch (error) {
    for (const { member, journal } of files) {
      await removeTree(restoreDirOf(paths, member.service, journal.id))
      removeJournal(paths, member.service)
    }
    for (const prepared of inService) await abandonCopiesRestore(paths, prepared)
    for (const resume of resumes.reverse()) await resume()
    throw error
  }
  try {
    for (const { member, journal } of files) {
      journal.phase = 'swapping'
      updateJournal(paths, member.service, journal)
    }
    for (const prepared of inService) await commitCopiesRestore(paths, prepared)
    for (const { member, journal } of files) await swapIn(paths, member.service, journal.id)
  } finally {
    for (const resume of resumes.reverse()) await resume()
  }
  const downtimeMs = Math.round(performance.now() - started)
  const kept = new Map(inService.map((prepared) => [prepared.manifest.service, prepared.swap.fromSpare]))
  // Services that keep their snapshots inside were not stopped: they report whether the swap was a rename of the ready copy.
  return manifests.map((manifest) => ({
    service: manifest.service,
    snapshot: name,
    checksum: manifest.checksum,
    size: manifest.size,
    downtimeMs,
    ...(kept.has(manifest.service) ? { fromSpare: kept.get(manifest.service)! } : {}),
  }))
}

type RestoreJournal = Extract<Journal, { op: 'restore' }>
