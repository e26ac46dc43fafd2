import { DevenvError } from '../errors.js'
import type { ProjectPaths } from '../state/paths.js'
import { deleteSnapshot } from './catalog.js'
import { removeJournal, updateJournal, type Journal } from './journal.js'
import { requireManifest, type SnapshotManifest } from './manifest.js'
import { generatedSnapshotName, validateSnapshotName } from './names.js'
import type { Quiesce, Resume } from './quiesce.js'
import { restoreDirOf } from './recover.js'
import { checkCompatible, prepareRestore, swapIn, type RestoreResult } from './restore.js'
import { saveSnapshot } from './save.js'
import { removeTree, treeChecksum } from './tree.js'

export interface SetMember {
  service: string
  box: string
  kind: string
  boxVersion: string
  quiesce: Quiesce
}

/** `--all`: every stateful service saved under one name. All or nothing: a failure removes the members already saved. */
export async function saveSnapshotSet(paths: ProjectPaths, members: SetMember[], name?: string): Promise<SnapshotManifest[]> {
  if (!members.length) throw new DevenvError('SNAPSHOT', 'the project has no stateful service to snapshot')
  const setName = validateSnapshotName(name ?? generatedSnapshotName())
  const saved: SnapshotManifest[] = []
  try {
    for (const member of members) {
      saved.push(await saveSnapshot({ paths, ...member, name: setName, set: true }))
    }
  } catch (error) {
    for (const manifest of saved) await deleteSnapshot(paths, manifest.service, manifest.name).catch(() => undefined)
    throw error
  }
  return saved
}

/**
 * `--all`: every member restored from the snapshot of that name. Every copy is prepared and
 * verified before any service is stopped; then all are stopped, committed, swapped, started.
 * Each service's swap is atomic on its own (see restoreSnapshot).
 */
export async function restoreSnapshotSet(paths: ProjectPaths, members: SetMember[], name: string, force = false): Promise<RestoreResult[]> {
  if (!members.length) throw new DevenvError('SNAPSHOT', 'the project has no stateful service to restore')
  validateSnapshotName(name)
  const manifests = members.map((member) => requireManifest(paths, member.service, name))
  members.forEach((member, index) => checkCompatible(manifests[index]!, member.box, member.boxVersion, force))
  for (const manifest of manifests) {
    if (treeChecksum(manifest.entries) !== manifest.checksum) throw new DevenvError('SNAPSHOT', `the manifest of snapshot ${name} of ${manifest.service} does not match its own checksum`)
  }
  const prepared: Array<Extract<Journal, { op: 'restore' }>> = []
  const resumes: Resume[] = []
  let started = 0
  try {
    for (const manifest of manifests) prepared.push(await prepareRestore(paths, manifest.service, manifest))
    started = performance.now()
    for (const member of members) resumes.push(await member.quiesce())
  } catch (error) {
    for (const [index, journal] of prepared.entries()) {
      await removeTree(restoreDirOf(paths, members[index]!.service, journal.id))
      removeJournal(paths, members[index]!.service)
    }
    for (const resume of resumes.reverse()) await resume()
    throw error
  }
  try {
    for (const [index, journal] of prepared.entries()) {
      journal.phase = 'swapping'
      updateJournal(paths, members[index]!.service, journal)
    }
    for (const [index, journal] of prepared.entries()) await swapIn(paths, members[index]!.service, journal.id)
  } finally {
    for (const resume of resumes.reverse()) await resume()
  }
  const downtimeMs = Math.round(performance.now() - started)
  return manifests.map((manifest) => ({ service: manifest.service, snapshot: name, checksum: manifest.checksum, size: manifest.size, downtimeMs }))
}
