import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync, mkdirSync, promises as fs, readdirSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { fsyncFolder, machineHome, readJson, withFileLock, writeJsonAtomic } from '../state/index.js'
import type { ImageConfig, ImageManifest } from './media-types.js'
import { removeTreeAnyOwner } from '../util/user-namespace.js'

/**
 * The machine-wide, content-addressed image store, shared by every project:
 *   <home>/images/blobs/sha256/<hex>      every blob, named by its verified digest
 *   <home>/images/partial/<hex>           a download under way (resumed from its length)
 *   <home>/images/refs/<id>.json          a name → manifest digest (one file per name)
 *   <home>/images/rootfs/<hex>/           the unpacked root filesystem of a manifest
 *   <home>/images/work/                   extraction in progress, renamed into rootfs/
 */
export function imagesRoot(): string {
  return path.join(machineHome(), 'images')
}

const DIGEST = /^sha256:([0-9a-f]{64})$/

export function digestHex(digest: string): string {
  const match = DIGEST.exec(digest)
  if (!match)
    throw new DevenvError('ARCHIVE', `unsupported or malformed digest "${digest}"`, {
      hint: 'Only sha256 digests are supported.',
    })
  return match[1]!
}

export function blobPath(digest: string): string {
  return path.join(imagesRoot(), 'blobs', 'sha256', digestHex(digest))
}

export function partialPath(digest: string): string {
  return path.join(imagesRoot(), 'partial', digestHex(digest))
}

export function rootfsPath(manifestDigest: string): string {
  return path.join(imagesRoot(), 'rootfs', digestHex(manifestDigest))
}

export function ensureStore(): void {
  // World-searchable: an image's files are read by the users the image runs as.
  for (const sub of ['', 'rootfs']) mkdirSync(path.join(imagesRoot(), sub), { recursive: true, mode: 0o755 })
  for (const sub of ['blobs/sha256', 'partial', 'refs', 'work'])
    mkdirSync(path.join(imagesRoot(), sub), { recursive: true, mode: 0o700 })
}

export function hasBlob(digest: string): boolean {
  return existsSync(blobPath(digest))
}

export async function readBlobJson<T>(digest: string): Promise<T> {
  const text = await fs.readFile(blobPath(digest), 'utf8')
  return JSON.parse(text) as T
}

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer)
  return `sha256:${hash.digest('hex')}`
}

/** Puts bytes whose digest is known into the store, verifying it; a mismatch stores nothing. */
export async function putBlobBytes(digest: string, bytes: Buffer): Promise<void> {
  const found = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
  if (found !== digest)
    throw new DevenvError('INTEGRITY', `content does not match its digest: expected ${digest}, got ${found}`)
  if (hasBlob(digest)) return
  ensureStore()
  const temporary = `${partialPath(digest)}.${randomBytes(4).toString('hex')}`
  await fs.writeFile(temporary, bytes, { mode: 0o600 })
  await fs.rename(temporary, blobPath(digest))
}

/** Moves a finished, verified download (or any file) into the store under its digest. */
export async function publishBlob(file: string, digest: string): Promise<void> {
  const handle = await fs.open(file, 'r')
  await handle.sync().finally(() => handle.close())
  await fs.rename(file, blobPath(digest))
  fsyncFolder(path.dirname(blobPath(digest)))
}

/** What the store keeps about one name. */
export interface ImageRecord {
  format: 'devenv-image/1'
  name: string
  manifestDigest: string
  /** The index the name pointed at, when it was one (the manifest was chosen from it for this platform). */
  indexDigest?: string
  configDigest: string
  layers: string[]
  /** Bytes of config and layers, as the registry sent them. */
  size: number
  pulled: string
  /** Set on images made by `devenv commit`: the image it was made from. */
  base?: string
}

function refFile(name: string): string {
  return path.join(imagesRoot(), 'refs', `${createHash('sha256').update(name).digest('hex').slice(0, 32)}.json`)
}

export function readImageRecord(name: string): ImageRecord | undefined {
  const record = readJson<ImageRecord>(refFile(name))
  return record?.format === 'devenv-image/1' && record.name === name ? record : undefined
}

export function writeImageRecord(record: ImageRecord): void {
  ensureStore()
  writeJsonAtomic(refFile(record.name), record, 0o600)
}

export async function removeImageRecord(name: string): Promise<boolean> {
  const file = refFile(name)
  if (!existsSync(file) || !readImageRecord(name)) return false
  await fs.rm(file)
  return true
}

export function listImageRecords(): ImageRecord[] {
  const folder = path.join(imagesRoot(), 'refs')
  let names: string[]
  try {
    names = readdirSync(folder).filter((name) => name.endsWith('.json'))
  } catch {
    return []
  }
  const records: ImageRecord[] = []
  for (const name of names) {
    const record = readJson<ImageRecord>(path.join(folder, name))
    if (record?.format === 'devenv-image/1') records.push(record)
  }
  return records.sort((a, b) => a.name.localeCompare(b.name))
}

export async function readManifest(record: ImageRecord): Promise<ImageManifest> {
  return readBlobJson<ImageManifest>(record.manifestDigest)
}

export async function readConfig(record: ImageRecord): Promise<ImageConfig> {
  return readBlobJson<ImageConfig>(record.configDigest)
}

/** Changes to the store (pull, remove, prune, commit) are made one at a time across processes. */
export async function withStoreLock<T>(work: () => Promise<T>): Promise<T> {
  ensureStore()
  return withFileLock(path.join(imagesRoot(), 'store'), work)
}

/** A fresh folder under work/ (same filesystem as rootfs/, so publishing is one rename). */
export async function makeWorkDir(label: string): Promise<string> {
  ensureStore()
  const folder = path.join(imagesRoot(), 'work', `${label}-${process.pid}-${randomBytes(4).toString('hex')}`)
  await fs.mkdir(folder, { mode: 0o755 })
  return folder
}

/** Work folders left by a process that died (its pid is in the name). */
export async function removeDeadWork(): Promise<void> {
  const folder = path.join(imagesRoot(), 'work')
  let names: string[]
  try {
    names = await fs.readdir(folder)
  } catch {
    return
  }
  for (const name of names) {
    const pid = Number(/-(\d+)-[0-9a-f]{8}$/.exec(name)?.[1])
    if (pid && !alive(pid)) removeTreeAnyOwner(path.join(folder, name))
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}
