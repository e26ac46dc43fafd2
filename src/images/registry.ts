import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream, promises as fs } from 'node:fs'
import { DevenvError } from '../errors.js'
import { fetchBearerToken, parseChallenge, registryCredentials } from './registry-auth.js'
import { isLoopbackRegistry, registryEndpointHost, type ImageReference } from '../util/image-reference.js'
import { MANIFEST_ACCEPT } from './media-types.js'

export interface FetchedManifest {
  digest: string
  mediaType: string
  bytes: Buffer
}

/** Bytes arrived for a blob: how many so far (a resumed download starts at what it had). */
export type BlobProgress = (received: number, total: number) => void

/**
 * A client of one repository over the OCI distribution API: manifests by tag or digest, blobs
 * verified against their sha256, downloads resumed with a Range request, bearer tokens fetched
 * when the registry asks (401 with a challenge) and reused.
 */
export class RegistryClient {
  private readonly base: string
  private authorization: string | undefined

  constructor(private readonly ref: ImageReference) {
    const scheme = isLoopbackRegistry(ref.registry) ? 'http' : 'https'
    this.base = `${scheme}://${registryEndpointHost(ref.registry)}/v2/${ref.repository}`
  }

  private async request(url: string, headers: Record<string, string>): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      let response: Response
      try {
        response = await fetch(url, {
          headers: { ...headers, ...(this.authorization ? { authorization: this.authorization } : {}) },
        })
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause
        throw new DevenvError(
          'RUNTIME',
          `cannot reach registry ${this.ref.registry}: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
          {
            hint: isLoopbackRegistry(this.ref.registry)
              ? 'Is the registry running on that port?'
              : 'Check the network and the registry name.',
          },
        )
      }
      if (response.status !== 401 || attempt > 0) return response
      const challenge = parseChallenge(response.headers.get('www-authenticate') ?? '')
      await response.body?.cancel()
      if (challenge?.scheme === 'bearer') {
        this.authorization = `Bearer ${await fetchBearerToken(challenge, this.ref.registry, `repository:${this.ref.repository}:pull`)}`
      } else if (challenge?.scheme === 'basic' && registryCredentials()) {
        this.authorization = `Basic ${registryCredentials()}`
      } else {
        throw new DevenvError(
          'RUNTIME',
          `registry ${this.ref.registry} asks for credentials to read ${this.ref.repository}`,
          {
            hint: 'Set DEVENV_REGISTRY_AUTH=user:password.',
          },
        )
      }
    }
  }

  private failure(what: string, response: Response): DevenvError {
    if (response.status === 404)
      return new DevenvError(
        'NOT_FOUND',
        `${what} is not in registry ${this.ref.registry} (repository ${this.ref.repository})`,
        {
          hint: 'Check the image name and tag.',
        },
      )
    return new DevenvError('RUNTIME', `registry ${this.ref.registry} answered HTTP ${response.status} for ${what}`)
  }

  /** A manifest or index by tag or digest; a digest reference is verified against the bytes. */
  async manifest(reference: string): Promise<FetchedManifest> {
    const response = await this.request(`${this.base}/manifests/${reference}`, { accept: MANIFEST_ACCEPT })
    if (!response.ok) throw this.failure(`manifest ${reference}`, response)
    const bytes = Buffer.from(await response.arrayBuffer())
    if (bytes.length > 4 * 1024 * 1024)
      throw new DevenvError('ARCHIVE', `the manifest of ${reference} is larger than 4 MiB`)
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`
    if (reference.startsWith('sha256:') && digest !== reference)
      throw new DevenvError(
        'INTEGRITY',
        `registry ${this.ref.registry} sent a manifest whose digest is ${digest}, not ${reference}`,
      )
    const header = response.headers.get('docker-content-digest')
    if (header && !reference.startsWith('sha256:') && header !== digest)
      throw new DevenvError(
        'INTEGRITY',
        `registry ${this.ref.registry} says manifest ${reference} is ${header}, its bytes are ${digest}`,
      )
    let mediaType = response.headers.get('content-type')?.split(';')[0]?.trim() ?? ''
    try {
      mediaType = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType ?? mediaType
    } catch {
      throw new DevenvError('ARCHIVE', `the manifest of ${reference} is not JSON`)
    }
    return { digest, mediaType, bytes }
  }

  /**
   * Downloads a blob into `partial`, continuing from what it already holds (Range), and checks
   * the whole file's sha256 and size. A mismatch removes the file and throws.
   */
  async downloadBlob(digest: string, size: number, partial: string, onProgress?: BlobProgress): Promise<void> {
    const hash = createHash('sha256')
    let have = 0
    try {
      for await (const piece of createReadStream(partial, { highWaterMark: 1 << 20 })) {
        hash.update(piece as Buffer)
        have += (piece as Buffer).length
      }
    } catch {
      have = 0
    }
    if (have > size) {
      await fs.rm(partial, { force: true })
      return this.downloadBlob(digest, size, partial, onProgress)
    }
    let received = have
    if (have < size) {
      const response = await this.request(`${this.base}/blobs/${digest}`, have > 0 ? { range: `bytes=${have}-` } : {})
      if (!response.ok || !response.body) throw this.failure(`blob ${digest}`, response)
      const resumed = response.status === 206
      const restart = have > 0 && !resumed
      const hashing = restart ? createHash('sha256') : hash
      received = restart ? 0 : have
      const output = createWriteStream(partial, { flags: restart || have === 0 ? 'w' : 'a', mode: 0o600 })
      try {
        for await (const piece of response.body as AsyncIterable<Uint8Array>) {
          received += piece.length
          if (received > size)
            throw new DevenvError('INTEGRITY', `blob ${digest} is larger than its descriptor's ${size} bytes`)
          hashing.update(piece)
          if (!output.write(piece)) await new Promise<void>((resolve) => output.once('drain', () => resolve()))
          onProgress?.(received, size)
        }
      } finally {
        await new Promise<void>((resolve, reject) =>
          output.end((error?: Error | null) => (error ? reject(error) : resolve())),
        )
      }
      if (restart) return this.verify(digest, size, partial, hashing.digest('hex'), received)
    }
    onProgress?.(received, size)
    return this.verify(digest, size, partial, hash.digest('hex'), received)
  }

  private async verify(digest: string, size: number, partial: string, hex: string, received: number): Promise<void> {
    if (received === size && `sha256:${hex}` === digest) return
    // A short download is kept: the next pull resumes it (and its hash is checked then).
    if (received < size)
      throw new DevenvError('RUNTIME', `the download of blob ${digest} stopped at ${received} of ${size} bytes`, {
        hint: 'Pull again: it resumes.',
      })
    await fs.rm(partial, { force: true })
    throw new DevenvError(
      'INTEGRITY',
      `blob ${digest} from ${this.ref.registry} does not match its sha256 (got sha256:${hex})`,
      {
        hint: 'The registry or something between sent other bytes; nothing was stored.',
      },
    )
  }
}
