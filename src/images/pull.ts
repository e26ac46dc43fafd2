import { DevenvError } from '../errors.js'
import { withFileLock } from '../state/index.js'
import {
  isIndex,
  platformManifest,
  hostPlatform,
  type ImageConfig,
  type ImageIndex,
  type ImageManifest,
} from './media-types.js'
import { formatImageReference, parseImageReference, type ImageReference } from '../util/image-reference.js'
import { RegistryClient } from './registry.js'
import {
  ensureStore,
  hasBlob,
  partialPath,
  publishBlob,
  putBlobBytes,
  readBlobJson,
  readImageRecord,
  removeDeadWork,
  withStoreLock,
  writeImageRecord,
  type ImageRecord,
} from './store.js'
import { settleStored } from './rootfs.js'

export type PullEvent =
  | { step: 'manifest'; message: string }
  | { step: 'blob'; digest: string; received: number; total: number; index: number; count: number }
  | { step: 'unpack'; message: string }

export interface PullResult {
  image: ImageRecord
  /** Blobs fetched now (the rest were in the store already). */
  fetched: number
  bytesFetched: number
  /** Unpacked as root; without root it is unpacked when a service first runs it. */
  rootfs?: string
}

/** The name a pulled image is stored under: the reference as given, made canonical. */
export function storedName(ref: ImageReference): string {
  return formatImageReference(ref)
}

function checkManifest(manifest: ImageManifest, name: string): void {
  if (manifest.schemaVersion !== 2 || !manifest.config?.digest || !Array.isArray(manifest.layers))
    throw new DevenvError('ARCHIVE', `the manifest of ${name} is not an image manifest (schema 2)`, {
      hint: 'Docker schema 1 images are not supported.',
    })
}

/**
 * Pulls an image into the store: the manifest (an index resolved to this platform's entry),
 * its config and layers, each verified against its sha256 and resumed when a download was cut,
 * then unpacked once into the store's root filesystems.
 */
export async function pullImage(given: string, onEvent: (event: PullEvent) => void = () => {}): Promise<PullResult> {
  const ref = parseImageReference(given)
  const name = storedName(ref)
  const client = new RegistryClient(ref)
  ensureStore()
  await removeDeadWork()
  onEvent({ step: 'manifest', message: `resolving ${name}` })
  let fetched = await client.manifest(ref.digest ?? ref.tag ?? 'latest')
  let indexDigest: string | undefined
  if (isIndex(fetched.mediaType)) {
    const index = JSON.parse(fetched.bytes.toString('utf8')) as ImageIndex
    const chosen = platformManifest(index)
    const want = hostPlatform()
    if (!chosen)
      throw new DevenvError('NOT_FOUND', `${name} has no image for ${want.os}/${want.architecture}`, {
        details: index.manifests.map(
          (entry) =>
            `${entry.platform?.os ?? '?'}/${entry.platform?.architecture ?? '?'}${entry.platform?.variant ? `/${entry.platform.variant}` : ''}`,
        ),
      })
    await putBlobBytes(fetched.digest, fetched.bytes)
    indexDigest = fetched.digest
    fetched = await client.manifest(chosen.digest)
  }
  const manifest = JSON.parse(fetched.bytes.toString('utf8')) as ImageManifest
  checkManifest(manifest, name)
  await putBlobBytes(fetched.digest, fetched.bytes)
  const blobs = [manifest.config, ...manifest.layers]
  let fetchedCount = 0
  let bytesFetched = 0
  for (const [index, blob] of blobs.entries()) {
    if (hasBlob(blob.digest)) continue
    const partial = partialPath(blob.digest)
    // One download of a blob at a time, across processes and within one (two services of one image start together).
    await withFileLock(partial, async () => {
      if (hasBlob(blob.digest)) return
      await client.downloadBlob(blob.digest, blob.size, partial, (received, total) =>
        onEvent({ step: 'blob', digest: blob.digest, received, total, index, count: blobs.length }),
      )
      await publishBlob(partial, blob.digest)
      fetchedCount++
      bytesFetched += blob.size
    })
  }
  const config = await readBlobJson<ImageConfig>(manifest.config.digest)
  if (config.os && config.os !== hostPlatform().os)
    throw new DevenvError('RUNTIME', `${name} is an image for ${config.os}, not ${hostPlatform().os}`)
  const record: ImageRecord = {
    format: 'devenv-image/1',
    name,
    manifestDigest: fetched.digest,
    ...(indexDigest ? { indexDigest } : {}),
    configDigest: manifest.config.digest,
    layers: manifest.layers.map((layer) => layer.digest),
    size: blobs.reduce((sum, blob) => sum + blob.size, 0),
    pulled: new Date().toISOString(),
  }
  const rootfs = await settleStored(record, (message) => onEvent({ step: 'unpack', message }))
  await withStoreLock(async () => writeImageRecord(record))
  return { image: record, fetched: fetchedCount, bytesFetched, ...(rootfs ? { rootfs } : {}) }
}

/** The stored image of a name, or an error that says how to get it. */
export function requireImage(given: string): ImageRecord {
  const ref = parseImageReference(given)
  const record = readImageRecord(storedName(ref))
  if (!record)
    throw new DevenvError('NOT_FOUND', `image ${storedName(ref)} is not in the image store`, {
      hint: `Pull it with devenv image pull ${given}.`,
    })
  return record
}
