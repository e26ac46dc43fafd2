import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import tar from 'tar-stream'

/** Pushes blobs and manifests over the distribution API itself, for images umoci would not make (hostile layers, indexes). */
export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

export async function pushBlob(registry: string, repository: string, bytes: Buffer): Promise<string> {
  const digest = sha256(bytes)
  const start = await fetch(`http://${registry}/v2/${repository}/blobs/uploads/`, { method: 'POST' })
  if (start.status !== 202) throw new Error(`upload start: HTTP ${start.status}`)
  const location = new URL(start.headers.get('location')!, `http://${registry}`)
  location.searchParams.set('digest', digest)
  const put = await fetch(location, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': 'application/octet-stream' },
  })
  if (put.status !== 201) throw new Error(`upload: HTTP ${put.status} ${await put.text()}`)
  return digest
}

export async function pushManifest(
  registry: string,
  repository: string,
  reference: string,
  manifest: object,
  mediaType: string,
): Promise<string> {
  const bytes = Buffer.from(JSON.stringify(manifest))
  const response = await fetch(`http://${registry}/v2/${repository}/manifests/${reference}`, {
    method: 'PUT',
    body: bytes,
    headers: { 'content-type': mediaType },
  })
  if (response.status !== 201) throw new Error(`manifest: HTTP ${response.status} ${await response.text()}`)
  return sha256(bytes)
}

export type RawEntry = {
  name: string
  type?: 'file' | 'directory' | 'symlink' | 'link'
  content?: string | Buffer
  linkname?: string
  mode?: number
}

/** A gzip tar layer holding exactly these entries, in this order. */
export async function layerOf(entries: RawEntry[]): Promise<{ gz: Buffer; diffId: string }> {
  const pack = tar.pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (chunk: unknown) => void chunks.push(chunk as Buffer))
    pack.on('end', () => resolve())
    pack.on('error', reject)
  })
  for (const entry of entries) {
    const type = entry.type ?? 'file'
    const header = {
      name: entry.name,
      type,
      mode: entry.mode ?? (type === 'directory' ? 0o755 : 0o644),
      linkname: entry.linkname,
    }
    if (type === 'file') pack.entry(header, entry.content ?? '')
    else pack.entry(header)
  }
  pack.finalize()
  await done
  const raw = Buffer.concat(chunks)
  return { gz: gzipSync(raw), diffId: sha256(raw) }
}

/** Pushes an image made of these raw layers (no config beyond the platform) as repository:tag. */
export async function pushRawImage(
  registry: string,
  repository: string,
  tag: string,
  layers: RawEntry[][],
  architecture = 'amd64',
  runConfig: object = { Cmd: ['/bin/sh'] },
): Promise<string> {
  const built = await Promise.all(layers.map(layerOf))
  const config = Buffer.from(
    JSON.stringify({
      architecture,
      os: 'linux',
      config: runConfig,
      rootfs: { type: 'layers', diff_ids: built.map((layer) => layer.diffId) },
    }),
  )
  const configDigest = await pushBlob(registry, repository, config)
  const layerDescriptors = []
  for (const layer of built)
    layerDescriptors.push({
      mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
      digest: await pushBlob(registry, repository, layer.gz),
      size: layer.gz.length,
    })
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
    layers: layerDescriptors,
  }
  return pushManifest(registry, repository, tag, manifest, 'application/vnd.oci.image.manifest.v1+json')
}
