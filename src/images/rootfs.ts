import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { fsyncFolder, readJson, writeJsonAtomic } from '../state/index.js'
import { digestHex, imagesRoot, makeWorkDir, rootfsPath, type ImageRecord } from './store.js'
import { layerOwners, unpackLayers } from './unpack.js'
import { removeTreeAnyOwner } from '../util/user-namespace.js'

export interface ImageOwners {
  uids: number[]
  gids: number[]
}

/**
 * The owners of an image's files, read from its layers once and kept beside the store: without
 * root, the ids an image needs decide whether its user namespace can hold it.
 */
export async function imageOwners(record: ImageRecord): Promise<ImageOwners> {
  const file = path.join(imagesRoot(), 'owners', `${digestHex(record.manifestDigest)}.json`)
  const known = readJson<ImageOwners>(file)
  if (known) return known
  const owners = await layerOwners(record.layers)
  await fs.mkdir(path.dirname(file), { recursive: true })
  writeJsonAtomic(file, owners)
  return owners
}

/**
 * What pull, commit and import do once an image is stored. As root: unpack it. Without root the
 * files could not get their owners here; they are unpacked in the user's user namespace when a
 * service first runs the image (runtime/bundled/image-unpack.ts), and the layers are only
 * checked now (hostile ones refused) and their owners noted.
 */
export async function settleStored(
  record: ImageRecord,
  say: (message: string) => void = () => {},
): Promise<string | undefined> {
  if (process.getuid?.() === 0) return ensureRootfs(record, say)
  await imageOwners(record)
  return undefined
}

/**
 * The unpacked root filesystem of an image, made once per manifest and shared (read-only) by
 * every service that runs it: unpacked into a work folder, renamed into place when whole.
 */
export async function ensureRootfs(record: ImageRecord, say: (message: string) => void = () => {}): Promise<string> {
  const target = rootfsPath(record.manifestDigest)
  if (existsSync(target)) return target
  const work = await makeWorkDir('unpack')
  try {
    const root = `${work}/rootfs`
    await fs.mkdir(root, { mode: 0o755 })
    await unpackLayers(record.layers, root, (progress) =>
      say(`${progress.phase} layer ${progress.layer + 1}/${progress.layers}`),
    )
    if (!existsSync(target)) {
      await fs.rename(root, target).catch(async (error: NodeJS.ErrnoException) => {
        // Another pull of the same manifest finished first: its copy is as good.
        if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error
      })
      fsyncFolder(rootfsPath(record.manifestDigest).replace(/\/[^/]+$/, ''))
    }
  } finally {
    removeTreeAnyOwner(work)
  }
  return target
}
