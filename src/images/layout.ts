import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, promises as fs } from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import tar from 'tar-stream'
import { DevenvError } from '../errors.js'
import { fsyncFolder } from '../state/index.js'
import { isIndex, MEDIA, platformManifest, type ImageIndex, type ImageManifest } from './media-types.js'
import { parseImageReference } from '../util/image-reference.js'
import { requireImage, storedName } from './pull.js'
import { settleStored } from './rootfs.js'
import {
  blobPath,
  digestHex,
  ensureStore,
  hasBlob,
  partialPath,
  publishBlob,
  readBlobJson,
  withStoreLock,
  writeImageRecord,
  type ImageRecord,
} from './store.js'

/**
 * OCI image layout archives (a tar of oci-layout, index.json and blobs/sha256/…), as skopeo's
 * `oci-archive:` and `docker load` read them; a Docker-style manifest.json rides along for older
 * `docker load`s.
 */
const REF_NAME = 'org.opencontainers.image.ref.name'
const CONTAINERD_NAME = 'io.containerd.image.name'

export interface ExportResult {
  image: string
  file: string
  bytes: number
  blobs: number
}

export async function exportImage(given: string, file: string): Promise<ExportResult> {
  const record = requireImage(given)
  const manifestBytes = await fs.readFile(blobPath(record.manifestDigest))
  const tag = parseImageReference(record.name).tag ?? 'latest'
  const index: ImageIndex = {
    schemaVersion: 2,
    mediaType: MEDIA.ociIndex,
    manifests: [
      {
        mediaType: (JSON.parse(manifestBytes.toString('utf8')) as ImageManifest).mediaType ?? MEDIA.ociManifest,
        digest: record.manifestDigest,
        size: manifestBytes.length,
        annotations: { [REF_NAME]: tag, [CONTAINERD_NAME]: record.name },
      },
    ],
  }
  const blob = (digest: string): string => `blobs/sha256/${digestHex(digest)}`
  const dockerManifest = [
    {
      Config: blob(record.configDigest),
      RepoTags: [record.name.replace(/^docker\.io\/(library\/)?/, '')],
      Layers: record.layers.map(blob),
    },
  ]
  const target = path.resolve(file)
  const temporary = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  )
  const pack = tar.pack()
  const writing = pipeline(pack, createWriteStream(temporary, { flags: 'wx', mode: 0o644 }))
  const add = (name: string, content: Buffer): Promise<void> =>
    new Promise((resolve, reject) =>
      pack.entry({ name, mode: 0o644, mtime: new Date(record.pulled) }, content, (error) =>
        error ? reject(error) : resolve(),
      ),
    )
  try {
    await add('oci-layout', Buffer.from(JSON.stringify({ imageLayoutVersion: '1.0.0' })))
    await add('index.json', Buffer.from(JSON.stringify(index)))
    await add('manifest.json', Buffer.from(JSON.stringify(dockerManifest)))
    pack.entry({ name: 'blobs/', type: 'directory', mode: 0o755 })
    pack.entry({ name: 'blobs/sha256/', type: 'directory', mode: 0o755 })
    const digests = [record.manifestDigest, record.configDigest, ...new Set(record.layers)]
    for (const digest of digests) {
      const stats = await fs.stat(blobPath(digest))
      await new Promise<void>((resolve, reject) => {
        const entry = pack.entry(
          { name: blob(digest), size: stats.size, mode: 0o644, mtime: new Date(record.pulled) },
          (error) => (error ? reject(error) : resolve()),
        )
        createReadStream(blobPath(digest)).on('error', reject).pipe(entry)
      })
    }
    pack.finalize()
    await writing
    await fs.rename(temporary, target)
    fsyncFolder(path.dirname(target))
    return { image: record.name, file: target, bytes: (await fs.stat(target)).size, blobs: digests.length }
  } catch (error) {
    pack.destroy()
    await writing.catch(() => undefined)
    await fs.rm(temporary, { force: true })
    throw error
  }
}

function refused(file: string, why: string): DevenvError {
  return new DevenvError('ARCHIVE', `refused image archive ${file}: ${why}`, {
    hint: 'No image was added (blobs it held that matched their digests are freed by devenv image prune).',
  })
}

const ALLOWED = /^(oci-layout|index\.json|manifest\.json|repositories|blobs|blobs\/sha256|blobs\/sha256\/[0-9a-f]{64})$/

export interface ImportResult {
  images: string[]
}

/**
 * Reads an OCI layout archive into the store: only the layout's own files are accepted (any
 * other path, a link or a device refuses the archive), and each blob is stored only once its
 * bytes match the digest it is named by. The images named in index.json (or `name`) are recorded.
 */
export async function importImage(file: string, name?: string): Promise<ImportResult> {
  const source = path.resolve(file)
  await fs.stat(source).catch(() => {
    throw new DevenvError('NOT_FOUND', `cannot read ${file}: no such file`)
  })
  ensureStore()
  const small = new Map<string, Buffer>()
  const extract = tar.extract()
  const feeding = pipeline(createReadStream(source), extract).catch((error: Error) => extract.destroy(error))
  try {
    for await (const entry of extract) {
      const entryName = entry.header.name.replace(/^\.\//, '').replace(/\/$/, '')
      if (!ALLOWED.test(entryName)) throw refused(file, `unexpected entry ${JSON.stringify(entry.header.name)}`)
      const type = entry.header.type
      if (type === 'directory') {
        entry.resume()
        continue
      }
      if (type !== 'file') throw refused(file, `${entryName} is a ${type}, not a file`)
      if (!entryName.startsWith('blobs/')) {
        const pieces: Buffer[] = []
        for await (const piece of entry) pieces.push(piece as Buffer)
        small.set(entryName, Buffer.concat(pieces))
        continue
      }
      const digest = `sha256:${entryName.slice('blobs/sha256/'.length)}`
      const partial = `${partialPath(digest)}.import-${process.pid}`
      const hash = createHash('sha256')
      const output = createWriteStream(partial, { mode: 0o600 })
      for await (const piece of entry) {
        hash.update(piece as Buffer)
        if (!output.write(piece)) await new Promise<void>((resolve) => output.once('drain', () => resolve()))
      }
      await new Promise<void>((resolve, reject) =>
        output.end((error?: Error | null) => (error ? reject(error) : resolve())),
      )
      if (`sha256:${hash.digest('hex')}` !== digest) {
        await fs.rm(partial, { force: true })
        throw refused(file, `blob ${digest.slice(0, 19)} does not match its sha256`)
      }
      if (hasBlob(digest)) await fs.rm(partial, { force: true })
      else await publishBlob(partial, digest)
    }
  } catch (error) {
    if (error instanceof DevenvError) throw error
    throw refused(file, `it is not a readable tar archive (${(error as Error).message})`)
  } finally {
    await feeding
  }
  const indexBytes = small.get('index.json')
  if (!small.has('oci-layout') || !indexBytes)
    throw refused(file, 'it has no oci-layout and index.json: not an OCI image layout')
  const index = JSON.parse(indexBytes.toString('utf8')) as ImageIndex
  const images: string[] = []
  await withStoreLock(async () => {
    for (const entry of index.manifests ?? []) {
      let manifestDigest = entry.digest
      let indexDigest: string | undefined
      if (isIndex(entry.mediaType)) {
        const chosen = platformManifest(await readBlobJson<ImageIndex>(entry.digest))
        if (!chosen) continue
        indexDigest = entry.digest
        manifestDigest = chosen.digest
      }
      if (!hasBlob(manifestDigest))
        throw refused(file, `manifest ${manifestDigest.slice(0, 19)} is named in index.json but not in the archive`)
      const manifest = await readBlobJson<ImageManifest>(manifestDigest)
      for (const blob of [manifest.config, ...manifest.layers])
        if (!hasBlob(blob.digest))
          throw refused(
            file,
            `blob ${blob.digest.slice(0, 19)} of ${manifestDigest.slice(0, 19)} is not in the archive`,
          )
      const given = name ?? entry.annotations?.[CONTAINERD_NAME] ?? entry.annotations?.[REF_NAME]
      if (!given) throw refused(file, 'an image in it has no name: give one with --name')
      const record: ImageRecord = {
        format: 'devenv-image/1',
        name: storedName(parseImageReference(given.includes('/') || given.includes(':') ? given : `imported/${given}`)),
        manifestDigest,
        ...(indexDigest ? { indexDigest } : {}),
        configDigest: manifest.config.digest,
        layers: manifest.layers.map((layer) => layer.digest),
        size: manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
        pulled: new Date().toISOString(),
      }
      await settleStored(record)
      writeImageRecord(record)
      images.push(record.name)
    }
  })
  if (!images.length) throw refused(file, 'index.json names no image for this platform')
  return { images }
}
