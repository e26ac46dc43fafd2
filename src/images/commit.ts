import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'
import { DevenvError } from '../errors.js'
import { MEDIA, type ImageConfig, type ImageManifest } from './media-types.js'
import { parseImageReference } from '../util/image-reference.js'
import { storedName } from './pull.js'
import { settleStored } from './rootfs.js'
import { userNamespacePlan } from '../util/user-namespace.js'
import { unreadable } from '../util/tree.js'
import {
  putBlobBytes,
  readConfig,
  readImageRecord,
  readManifest,
  withStoreLock,
  writeImageRecord,
  type ImageRecord,
} from './store.js'

const sha256 = (bytes: Buffer): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`

/** Files devenv itself leaves in a writable layer. */
const OWN_FILES = new Set(['.devenv-copy'])

/**
 * A service's writable layer (an overlay's upper folder) as an OCI layer: files, folders and
 * links as they are (owners as the service saw them), and overlayfs' whiteouts (character devices 0:0) as `.wh.` entries.
 */
async function layerFromUpper(upper: string): Promise<Buffer> {
  // Without root the layer's files carry outside ids: the layer says what they are inside.
  const inside = userNamespacePlan()
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer))
    pack.on('end', () => resolve())
    pack.on('error', reject)
  })
  const visit = async (folder: string, relative: string): Promise<void> => {
    for (const name of (await fs.readdir(folder)).sort()) {
      if (!relative && OWN_FILES.has(name)) continue
      const file = path.join(folder, name)
      const entry = relative ? `${relative}/${name}` : name
      const stats = await fs.lstat(file)
      const owner = {
        uid: inside ? inside.insideUid(stats.uid) : stats.uid,
        gid: inside ? inside.insideGid(stats.gid) : stats.gid,
        mtime: stats.mtime,
        mode: stats.mode & 0o7777,
      }
      if (stats.isCharacterDevice() && stats.rdev === 0) {
        pack.entry({ name: `${relative ? `${relative}/` : ''}.wh.${name}`, type: 'file', size: 0, mode: 0o644 }, '')
      } else if (stats.isDirectory()) {
        pack.entry({ name: `${entry}/`, type: 'directory', ...owner })
        await visit(file, entry)
      } else if (stats.isSymbolicLink()) {
        pack.entry({ name: entry, type: 'symlink', linkname: await fs.readlink(file), ...owner })
      } else if (stats.isFile()) {
        const content = await fs.readFile(file).catch((error: NodeJS.ErrnoException) => {
          throw error.code === 'EACCES' && inside ? unreadable(entry, stats) : error
        })
        pack.entry({ name: entry, type: 'file', ...owner }, content)
      }
    }
  }
  await visit(upper, '')
  pack.finalize()
  await done
  return Buffer.concat(chunks)
}

export interface CommitResult {
  image: ImageRecord
  layerBytes: number
}

/**
 * A new image in the store: the base image's layers and one more made of the service's writable
 * layer, the base's config kept (Entrypoint, Cmd, Env…) with the new layer's diff id and history.
 */
export async function commitImage(
  base: ImageRecord,
  upper: string,
  given: string,
  service: string,
  replace = false,
): Promise<CommitResult> {
  const name = storedName(parseImageReference(given))
  return withStoreLock(async () => {
    if (readImageRecord(name) && !replace)
      throw new DevenvError('EXISTS', `image ${name} is already in the image store`, {
        hint: 'Choose another tag, or commit with --force to replace it.',
      })
    const raw = await layerFromUpper(upper).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT')
        throw new DevenvError('NOT_FOUND', `service ${service} has no writable layer yet: start it once first`)
      throw error
    })
    const gz = gzipSync(raw, { level: 6 })
    const layerDigest = sha256(gz)
    await putBlobBytes(layerDigest, gz)
    const manifest = await readManifest(base)
    const config = await readConfig(base)
    const created = new Date().toISOString()
    const next: ImageConfig = {
      ...config,
      created,
      rootfs: { type: 'layers', diff_ids: [...config.rootfs.diff_ids, sha256(raw)] },
      history: [...(config.history ?? []), { created, created_by: `devenv commit ${service}` }],
    }
    const configBytes = Buffer.from(JSON.stringify(next))
    const configDigest = sha256(configBytes)
    await putBlobBytes(configDigest, configBytes)
    const nextManifest: ImageManifest = {
      schemaVersion: 2,
      mediaType: MEDIA.ociManifest,
      config: { mediaType: MEDIA.ociConfig, digest: configDigest, size: configBytes.length },
      layers: [
        ...manifest.layers.map((layer) => ({ ...layer, mediaType: layer.mediaType })),
        { mediaType: MEDIA.ociLayerGzip, digest: layerDigest, size: gz.length },
      ],
    }
    const manifestBytes = Buffer.from(JSON.stringify(nextManifest))
    const manifestDigest = sha256(manifestBytes)
    await putBlobBytes(manifestDigest, manifestBytes)
    const record: ImageRecord = {
      format: 'devenv-image/1',
      name,
      manifestDigest,
      configDigest,
      layers: nextManifest.layers.map((layer) => layer.digest),
      size: configBytes.length + nextManifest.layers.reduce((sum, layer) => sum + layer.size, 0),
      pulled: created,
      base: base.name,
    }
    await settleStored(record)
    writeImageRecord(record)
    return { image: record, layerBytes: gz.length }
  })
}
