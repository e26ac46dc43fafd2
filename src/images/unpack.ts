import {
  closeSync,
  createReadStream,
  fchmodSync,
  fchownSync,
  mkdirSync,
  openSync,
  promises as fs,
  writeSync,
} from 'node:fs'
import path from 'node:path'
import { PassThrough, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip } from 'node:zlib'
import tar from 'tar-stream'
import { DevenvError } from '../errors.js'
import { hostileLayer, LayerModel, type LayerAction } from './layer-model.js'
import { blobPath } from './store.js'

interface EntryMeta {
  size: number
  mode: number
  uid: number
  gid: number
  mtime?: Date
}

/** A layer blob as a tar stream: gzip is recognised by its magic bytes, zstd refused with the reason. */
async function layerStream(digest: string): Promise<Readable> {
  const file = blobPath(digest)
  const handle = await fs.open(file, 'r')
  const magic = Buffer.alloc(4)
  await handle.read(magic, 0, 4, 0).finally(() => handle.close())
  const raw = createReadStream(file, { highWaterMark: 1 << 20 })
  if (magic[0] === 0x1f && magic[1] === 0x8b) {
    const out = new PassThrough({ highWaterMark: 1 << 20 })
    pipeline(raw, createGunzip(), out).catch((error: Error) => out.destroy(error))
    return out
  }
  if (magic.readUInt32LE(0) === 0xfd2fb528) {
    raw.destroy()
    throw new DevenvError('ARCHIVE', `layer ${digest.slice(0, 19)} is zstd-compressed, which this Node cannot read`, {
      hint: 'Use an image with gzip layers.',
    })
  }
  return raw
}

/**
 * Every entry of the layers, in order, checked against the tree model. `onAction` is given what
 * to do on disk with the entry's content stream; without it the layers are only checked.
 */
async function walkLayers(
  layers: string[],
  onAction?: (action: LayerAction, meta: EntryMeta, body: AsyncIterable<Buffer>) => Promise<void>,
  onLayer?: (index: number) => void,
): Promise<number> {
  const model = new LayerModel()
  for (const [index, digest] of layers.entries()) {
    onLayer?.(index)
    model.startLayer(index, digest)
    const extract = tar.extract()
    const input = await layerStream(digest)
    const feeding = pipeline(input, extract).catch((error: Error) => extract.destroy(error))
    try {
      for await (const entry of extract) {
        const header = entry.header
        const actions = model.apply({ name: header.name, type: header.type ?? 'file', linkname: header.linkname })
        const meta = {
          size: header.size ?? 0,
          mode: header.mode ?? 0o644,
          uid: header.uid ?? 0,
          gid: header.gid ?? 0,
          mtime: header.mtime,
        }
        for (const action of actions) if (onAction) await onAction(action, meta, entry as AsyncIterable<Buffer>)
        entry.resume()
      }
    } catch (error) {
      if (error instanceof DevenvError) throw error
      throw hostileLayer(digest, `it is not a readable tar archive (${(error as Error).message})`)
    } finally {
      await feeding
    }
  }
  return model.entries
}

const asRoot = process.getuid?.() === 0

async function writeAction(
  root: string,
  action: LayerAction,
  meta: EntryMeta,
  body: AsyncIterable<Buffer>,
): Promise<void> {
  const target = path.join(root, action.path)
  switch (action.kind) {
    case 'skip':
      return
    case 'remove':
      await fs.rm(target, { recursive: true, force: true })
      return
    case 'clear': {
      const keep = new Set(action.keep)
      for (const name of await fs.readdir(target).catch(() => [] as string[]))
        if (!keep.has(name)) await fs.rm(path.join(target, name), { recursive: true, force: true })
      return
    }
    case 'dir':
      await fs.mkdir(target, { recursive: true })
      await own(target, meta)
      return
    case 'file': {
      await fs.mkdir(path.dirname(target), { recursive: true })
      const handle = await fs.open(target, 'wx', 0o600)
      try {
        for await (const piece of body) await handle.write(piece)
      } finally {
        await handle.close()
      }
      await own(target, meta)
      return
    }
    case 'symlink':
      await fs.mkdir(path.dirname(target), { recursive: true })
      await fs.symlink(action.target, target)
      if (asRoot) await fs.lchown(target, meta.uid, meta.gid)
      return
    case 'hardlink':
      await fs.mkdir(path.dirname(target), { recursive: true })
      await fs.link(path.join(root, action.target), target)
  }
}

/** Owners and modes as the layer says when devenv is root; without root the files are the user's, setuid and setgid dropped. */
async function own(target: string, meta: EntryMeta): Promise<void> {
  if (asRoot) await fs.chown(target, meta.uid, meta.gid)
  await fs.chmod(target, asRoot ? meta.mode & 0o7777 : (meta.mode & 0o1777) | 0o600)
}

/** Files up to this size are read whole and written at once. */
const SMALL_FILE = 4 * 1024 * 1024

async function collect(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const pieces: Buffer[] = []
  for await (const piece of body) pieces.push(piece)
  return pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces)
}

/**
 * A small file in one go with synchronous calls: a file costs five system calls, and through the
 * thread pool each would be a round trip (an image of 4 000 files unpacked in a third of the time).
 */
function writeSmallFile(target: string, content: Buffer, meta: EntryMeta): void {
  const fd = openSync(target, 'wx', 0o600)
  try {
    writeSync(fd, content)
    if (asRoot) fchownSync(fd, meta.uid, meta.gid)
    fchmodSync(fd, asRoot ? meta.mode & 0o7777 : (meta.mode & 0o1777) | 0o600)
  } finally {
    closeSync(fd)
  }
}

/** The owners (uids and gids) of every entry of the layers: what ids the image needs to exist. */
export async function layerOwners(layers: string[]): Promise<{ uids: number[]; gids: number[] }> {
  const uids = new Set<number>()
  const gids = new Set<number>()
  await walkLayers(layers, async (action, meta) => {
    if (action.kind === 'remove' || action.kind === 'clear' || action.kind === 'skip') return
    uids.add(meta.uid)
    gids.add(meta.gid)
  })
  return { uids: [...uids], gids: [...gids] }
}

export interface UnpackProgress {
  phase: 'checking' | 'unpacking'
  layer: number
  layers: number
}

/**
 * Unpacks layers into `root` (an empty folder): every layer is read and checked first, writing
 * nothing; only an image that passes is written, entry by entry, applying whiteouts.
 * Folder modes are set last, so a read-only folder of the image does not stop its own files.
 */
export async function unpackLayers(
  layers: string[],
  root: string,
  onProgress?: (progress: UnpackProgress) => void,
): Promise<{ entries: number }> {
  await walkLayers(layers, undefined, (layer) => onProgress?.({ phase: 'checking', layer, layers: layers.length }))
  const folderModes = new Map<string, EntryMeta>()
  const made = new Set<string>()
  const entries = await walkLayers(
    layers,
    async (action, meta, body) => {
      // Folders known to exist, so a file's costs no mkdir; anything removed may take some with it.
      if (action.kind === 'remove' || action.kind === 'clear') made.clear()
      if (action.kind === 'dir') {
        await writeAction(root, action, { ...meta, mode: 0o755 }, body)
        folderModes.set(path.join(root, action.path), meta)
      } else if (action.kind === 'file' && meta.size <= SMALL_FILE) {
        const content = await collect(body)
        const target = path.join(root, action.path)
        const folder = path.dirname(target)
        if (!made.has(folder)) {
          mkdirSync(folder, { recursive: true })
          made.add(folder)
        }
        writeSmallFile(target, content, meta)
      } else await writeAction(root, action, meta, body)
    },
    (layer) => onProgress?.({ phase: 'unpacking', layer, layers: layers.length }),
  )
  // Deepest first; a folder a later layer removed is gone and skipped.
  const deepestFirst = [...folderModes].sort(([a], [b]) => b.localeCompare(a))
  for (const [folder, meta] of deepestFirst) await own(folder, meta).catch(() => undefined)
  return { entries }
}
