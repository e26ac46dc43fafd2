import { promises as fs } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { parseImageReference } from '../util/image-reference.js'
import { storedName } from './pull.js'
import {
  blobPath,
  digestHex,
  imagesRoot,
  listImageRecords,
  readBlobJson,
  readImageRecord,
  removeDeadWork,
  removeImageRecord,
  withStoreLock,
} from './store.js'
import type { ImageIndex, ImageManifest } from './media-types.js'
import { removeTreeAnyOwner } from '../util/user-namespace.js'

export interface ImageSummary {
  name: string
  digest: string
  size: number
  layers: number
  pulled: string
  base?: string
}

export function listImages(): ImageSummary[] {
  return listImageRecords().map((record) => ({
    name: record.name,
    digest: record.manifestDigest,
    size: record.size,
    layers: record.layers.length,
    pulled: record.pulled,
    ...(record.base ? { base: record.base } : {}),
  }))
}

/** Removes a name; its blobs and root filesystem stay until `prune` (another name may share them). */
export async function removeImage(given: string): Promise<{ removed: string; digest: string }> {
  const name = storedName(parseImageReference(given))
  return withStoreLock(async () => {
    const record = readImageRecord(name)
    if (!record || !(await removeImageRecord(name)))
      throw new DevenvError('NOT_FOUND', `image ${name} is not in the image store`, {
        hint: 'List images with devenv image ls.',
      })
    return { removed: name, digest: record.manifestDigest }
  })
}

export interface PruneResult {
  blobs: number
  rootfs: number
  partial: number
  bytes: number
}

async function sizeOf(target: string): Promise<number> {
  const stat = await fs.lstat(target).catch(() => undefined)
  if (!stat) return 0
  if (!stat.isDirectory()) return stat.size
  let total = 0
  // Without root, a folder of another id of the user namespace may not be listed: not counted.
  for (const name of await fs.readdir(target).catch(() => [] as string[]))
    total += await sizeOf(path.join(target, name))
  return total
}

/**
 * Image root filesystems a running service has mounted (an overlay's lowerdir in its mount
 * namespace, seen in its /proc/PID/mountinfo), whether or not a name still points at them.
 */
async function rootfsInUse(): Promise<Set<string>> {
  const used = new Set<string>()
  const marker = `lowerdir=${path.join(imagesRoot(), 'rootfs')}/`
  for (const pid of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(pid)) continue
    const mounts = await fs.readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '')
    for (let at = mounts.indexOf(marker); at !== -1; at = mounts.indexOf(marker, at + 1)) {
      const hex = mounts.slice(at + marker.length, at + marker.length + 64)
      if (/^[0-9a-f]{64}$/.test(hex)) used.add(hex)
    }
  }
  return used
}

/** Removes every blob, root filesystem and partial download no stored name (nor running service) needs. */
export async function pruneImages(): Promise<PruneResult> {
  return withStoreLock(async () => {
    await removeDeadWork()
    const keepBlobs = new Set<string>()
    const keepRootfs = new Set<string>()
    for (const record of listImageRecords()) {
      for (const digest of [record.manifestDigest, record.configDigest, ...record.layers])
        keepBlobs.add(digestHex(digest))
      if (record.indexDigest) {
        keepBlobs.add(digestHex(record.indexDigest))
        const index = await readBlobJson<ImageIndex>(record.indexDigest).catch(() => undefined)
        for (const entry of index?.manifests ?? [])
          if (/^sha256:[0-9a-f]{64}$/.test(entry.digest)) keepBlobs.add(digestHex(entry.digest))
      }
      keepRootfs.add(digestHex(record.manifestDigest))
    }
    // A running service keeps its image's files and blobs even after `image rm`.
    for (const hex of await rootfsInUse()) {
      keepRootfs.add(hex)
      keepBlobs.add(hex)
      const manifest = await readBlobJson<ImageManifest>(`sha256:${hex}`).catch(() => undefined)
      for (const blob of manifest ? [manifest.config, ...manifest.layers] : []) keepBlobs.add(digestHex(blob.digest))
    }
    const result: PruneResult = { blobs: 0, rootfs: 0, partial: 0, bytes: 0 }
    const sweep = async (folder: string, keep: Set<string>, count: 'blobs' | 'rootfs' | 'partial'): Promise<void> => {
      for (const name of await fs.readdir(folder).catch(() => [] as string[])) {
        if (keep.has(name)) continue
        const target = path.join(folder, name)
        result.bytes += await sizeOf(target)
        removeTreeAnyOwner(target)
        result[count]++
      }
    }
    await sweep(path.dirname(blobPath(`sha256:${'0'.repeat(64)}`)), keepBlobs, 'blobs')
    await sweep(path.join(imagesRoot(), 'rootfs'), keepRootfs, 'rootfs')
    await sweep(path.join(imagesRoot(), 'partial'), new Set(), 'partial')
    return result
  })
}
