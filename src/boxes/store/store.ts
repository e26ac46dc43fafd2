import { readdirSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../../errors.js'
import type { BoxRef, ServiceSpec } from '../../envfile/index.js'
import { fsyncFolder, writeJsonAtomic } from '../../state/index.js'
import { boxDir, readBoxRecord, storeRoot } from './records.js'
import type { Quiesce } from '../capabilities.js'
import { copyTree, summarise, treeChecksum, type TreeEntry } from '../../util/tree.js'
import { BOX_FORMAT, recipeOf, summaryOf, type BoxRecord, type BoxSummary } from './record.js'
import { DEFAULT_TAG, formatRef, type CommittedRef } from './refs.js'
import { randomBytes } from 'node:crypto'

export { boxDir, readBoxRecord, resolveCommittedBox, storeRoot } from './records.js'

export function requireBox(ref: CommittedRef): BoxRecord {
  const record = readBoxRecord(ref)
  if (!record) throw new DevenvError('NOT_FOUND', `box ${formatRef(ref)} is not in the box store`, { hint: 'List boxes with devenv box list, or import one with devenv box import FILE.' })
  return record
}

export function listBoxes(): BoxSummary[] {
  const found: BoxSummary[] = []
  for (const name of visibleNames(storeRoot())) {
    for (const tag of visibleNames(path.join(storeRoot(), name))) {
      const record = readBoxRecord({ name, tag })
      if (record) found.push(summaryOf(record))
    }
  }
  return found.sort((a, b) => a.name.localeCompare(b.name) || a.created.localeCompare(b.created))
}

function visibleNames(folder: string): string[] {
  try {
    return readdirSync(folder).filter((name) => !name.startsWith('.')).sort()
  } catch {
    return []
  }
}

/** A work folder inside the store (same filesystem, so publishing is one rename); its pid tells a dead one from a live one. */
export async function makeWorkDir(): Promise<string> {
  await removeDeadWorkDirs()
  const folder = path.join(storeRoot(), `.partial-${process.pid}-${randomBytes(4).toString('hex')}`)
  await fs.mkdir(folder, { recursive: true, mode: 0o700 })
  return folder
}

async function removeDeadWorkDirs(): Promise<void> {
  let names: string[]
  try {
    names = await fs.readdir(storeRoot())
  } catch {
    return
  }
  for (const name of names) {
    const match = /^\.(?:partial|removing)-(\d+)-/.exec(name)
    if (match && !processAlive(Number(match[1]))) await fs.rm(path.join(storeRoot(), name), { recursive: true, force: true })
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Moves a finished work folder (box.json + data/) to its place in the store, refusing to replace a box unless `replace`. */
export async function publishBox(work: string, ref: CommittedRef, replace = false): Promise<void> {
  const target = boxDir(ref)
  await fs.mkdir(path.dirname(target), { recursive: true })
  let displaced: string | undefined
  if (replace && readBoxRecord(ref)) {
    displaced = path.join(storeRoot(), `.removing-${process.pid}-${randomBytes(4).toString('hex')}`)
    await fs.rename(target, displaced)
  }
  try {
    await fs.rename(work, target)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') {
      throw new DevenvError('EXISTS', `box ${formatRef(ref)} is already in the box store`, { hint: `Remove it first (devenv box remove ${formatRef(ref)}), or pick another tag.` })
    }
    throw error
  }
  fsyncFolder(path.dirname(target))
  if (displaced) await fs.rm(displaced, { recursive: true, force: true })
}

export interface CommitOptions {
  /** The service's data folder. */
  dataDir: string
  service: ServiceSpec
  ref: CommittedRef
  /** The version of the box the state belongs to (see serviceBoxIdentity). */
  baseVersion: string
  quiesce: Quiesce
  replace?: boolean
  /** Paths of the data folder, relative to it, that are not the service's state (left out). */
  skip?: string[]
}

/** A service's state plus its recipe becomes a box in the machine-wide store. */
export async function commitBox(options: CommitOptions): Promise<BoxSummary> {
  const { ref } = options
  if (!options.replace && readBoxRecord(ref)) {
    throw new DevenvError('EXISTS', `box ${formatRef(ref)} is already in the box store`, { hint: `Remove it first (devenv box remove ${formatRef(ref)}), or pick another tag.` })
  }
  try {
    await fs.access(options.dataDir)
  } catch {
    throw new DevenvError('BOX', `service ${options.service.name} has no state to commit yet (${options.dataDir} does not exist)`, { hint: 'Start it once with devenv up, so that it creates its data.' })
  }
  const work = await makeWorkDir()
  try {
    let copied: TreeEntry[]
    const resume = await options.quiesce()
    try {
      // Hashed as it is copied (one read, not two); durable before publishBox renames it into the store.
      copied = await copyTree(options.dataDir, path.join(work, 'data'), { hash: true, durable: true, skip: new Set(options.skip ?? []) })
    } finally {
      await resume()
    }
    const summary = summarise(copied)
    const box = options.service.box
    const record: BoxRecord = {
      format: BOX_FORMAT,
      name: ref.name,
      tag: ref.tag,
      kind: options.service.kind,
      baseBox: box.tag ? `${box.name}:${box.tag}` : box.name,
      baseVersion: options.baseVersion,
      created: new Date().toISOString(),
      size: summary.size,
      files: summary.files,
      checksum: summary.checksum,
      recipe: recipeOf(options.service),
      entries: summary.entries,
    }
    writeJsonAtomic(path.join(work, 'box.json'), record, 0o600)
    await publishBox(work, ref, options.replace)
    return summaryOf(record)
  } catch (error) {
    await fs.rm(work, { recursive: true, force: true })
    throw error
  }
}

export async function removeBox(ref: CommittedRef): Promise<BoxSummary> {
  const record = requireBox(ref)
  const doomed = path.join(storeRoot(), `.removing-${process.pid}-${randomBytes(4).toString('hex')}`)
  await fs.rename(boxDir(ref), doomed)
  fsyncFolder(path.join(storeRoot(), ref.name))
  await fs.rm(doomed, { recursive: true, force: true })
  await fs.rmdir(path.join(storeRoot(), ref.name)).catch(() => undefined)
  return summaryOf(record)
}

/**
 * First boot of a service whose box is a committed one: its data folder starts as a verified
 * copy of the box's data/. Does nothing (returns false) when the folder already has state.
 * The copy is made beside the folder and renamed into place, so a crash never leaves half a seed.
 */
export async function seedServiceData(ref: BoxRef, dataDir: string): Promise<boolean> {
  const committed: CommittedRef = { name: ref.name, tag: ref.tag ?? DEFAULT_TAG }
  try {
    if ((await fs.readdir(dataDir)).length > 0) return false
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
  }
  const record = requireBox(committed)
  const seeding = `${dataDir}.seed-${randomBytes(4).toString('hex')}`
  await fs.mkdir(path.dirname(dataDir), { recursive: true })
  try {
    const expect = new Map(record.entries.map((entry) => [entry.path, entry]))
    const copied = await copyTree(path.join(boxDir(committed), 'data'), seeding, { hash: true, durable: true, expect })
    if (treeChecksum(copied) !== record.checksum) throw new DevenvError('BOX', `box ${formatRef(committed)} in the store does not match its checksum`, { hint: 'Remove it and import or commit it again.' })
    await fs.rm(dataDir, { recursive: true, force: true })
    await fs.rename(seeding, dataDir)
    fsyncFolder(path.dirname(dataDir))
    return true
  } catch (error) {
    await fs.rm(seeding, { recursive: true, force: true })
    throw error
  }
}
