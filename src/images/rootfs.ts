import { existsSync, promises as fs } from 'node:fs'
import { fsyncFolder } from '../state/index.js'
import { makeWorkDir, rootfsPath, type ImageRecord } from './store.js'
import { unpackLayers } from './unpack.js'

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
    await fs.rm(work, { recursive: true, force: true })
  }
  return target
}
