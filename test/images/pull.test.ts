import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'
import { buildImage, pushImage, removeLayout } from './build-images.js'
import { pushManifest, pushRawImage } from './raw-push.js'
import { HAVE_IMAGE_TOOLS, startRegistry, type LocalRegistry } from './registry.js'

interface Envelope<T> {
  ok: boolean
  result: T
  error?: { code: string; message: string }
}

function json<T>(stdout: string): Envelope<T> {
  return JSON.parse(stdout) as Envelope<T>
}

interface PullResult {
  image: { name: string; manifestDigest: string; layers: string[]; indexDigest?: string }
  fetched: number
  rootfs: string
}

describe.skipIf(!HAVE_IMAGE_TOOLS)('devenv image pull, ls, rm, prune against a local registry', () => {
  let registry: LocalRegistry
  let home: string
  const run = (args: string[]) => devenv(args, { env: { DEVENV_HOME: home }, timeout: 60_000 })

  beforeAll(async () => {
    registry = await startRegistry()
    const layout = buildImage({
      files: { 'etc/greeting': 'hello\n', 'etc/doomed': 'gone soon\n', 'srv/old/a': 'a\n', 'srv/old/b': 'b\n' },
      secondLayer: { remove: ['etc/doomed', 'srv/old'], files: { 'srv/old/c': 'c\n' } },
      config: { cmd: ['/bin/sh'] },
    })
    pushImage(layout, registry.host, 'tools/busybox:1')
    removeLayout(layout)
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  beforeAll(() => {
    home = sandbox('devenv-images-home-')
  })

  it('pulls over plain HTTP from a loopback registry, verifies and unpacks with whiteouts applied', async () => {
    const pulled = await run(['image', 'pull', `${registry.host}/tools/busybox:1`, '--json'])
    expect(pulled.stderr).not.toMatch(STACK_LINE)
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0)
    const result = json<PullResult>(pulled.stdout).result
    expect(result.image.name).toBe(`${registry.host}/tools/busybox:1`)
    expect(result.image.layers.length).toBe(2)
    expect(result.fetched).toBe(3)
    const rootfs = result.rootfs
    expect(readFileSync(path.join(rootfs, 'etc/greeting'), 'utf8')).toBe('hello\n')
    // The second layer deleted etc/doomed (a .wh. file) and replaced srv/old (an opaque folder or whiteouts).
    expect(existsSync(path.join(rootfs, 'etc/doomed'))).toBe(false)
    expect(readdirSync(path.join(rootfs, 'srv/old'))).toEqual(['c'])
    expect(readlinkSync(path.join(rootfs, 'bin/sh'))).toBe('busybox')
    expect(lstatSync(path.join(rootfs, 'tmp')).mode & 0o7777).toBe(0o1777)
    expect(lstatSync(path.join(rootfs, 'bin/busybox')).mode & 0o777).toBe(0o755)

    const again = await run(['image', 'pull', `${registry.host}/tools/busybox:1`, '--json'])
    expect(json<PullResult>(again.stdout).result.fetched).toBe(0)

    const listed = await run(['image', 'ls', '--json'])
    const images = json<{ images: Array<{ name: string; layers: number }> }>(listed.stdout).result.images
    expect(images.map((image) => image.name)).toContain(`${registry.host}/tools/busybox:1`)
    const plain = await run(['image', 'ls'])
    expect(plain.stdout).toContain('tools/busybox:1')
  })

  it('resolves a multi-platform index to this platform', async () => {
    const amd64 = await pushRawImage(
      registry.host,
      'multi/app',
      'amd64',
      [[{ name: 'platform', content: 'amd64\n' }]],
      'amd64',
    )
    const arm64 = await pushRawImage(
      registry.host,
      'multi/app',
      'arm64',
      [[{ name: 'platform', content: 'arm64\n' }]],
      'arm64',
    )
    const sizeOf = async (tag: string) =>
      Number(
        (
          await fetch(`http://${registry.host}/v2/multi/app/manifests/${tag}`, {
            method: 'HEAD',
            headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
          })
        ).headers.get('content-length'),
      )
    const mediaType = 'application/vnd.oci.image.manifest.v1+json'
    await pushManifest(
      registry.host,
      'multi/app',
      'both',
      {
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: [
          {
            mediaType,
            digest: arm64,
            size: await sizeOf('arm64'),
            platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
          },
          { mediaType, digest: amd64, size: await sizeOf('amd64'), platform: { os: 'linux', architecture: 'amd64' } },
        ],
      },
      'application/vnd.oci.image.index.v1+json',
    )
    const pulled = await run(['image', 'pull', `${registry.host}/multi/app:both`, '--json'])
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0)
    const result = json<PullResult>(pulled.stdout).result
    const wanted = process.arch === 'arm64' ? arm64 : amd64
    expect(result.image.manifestDigest).toBe(wanted)
    expect(result.image.indexDigest).toMatch(/^sha256:/)
    expect(readFileSync(path.join(result.rootfs, 'platform'), 'utf8')).toBe(
      process.arch === 'arm64' ? 'arm64\n' : 'amd64\n',
    )
  })

  it('refuses a blob whose bytes do not match its digest, storing nothing', async () => {
    const digest = await pushRawImage(registry.host, 'bad/blob', 'v1', [
      [{ name: 'file', content: 'original content of a layer\n' }],
    ])
    const manifest = (await (
      await fetch(`http://${registry.host}/v2/bad/blob/manifests/${digest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { layers: Array<{ digest: string }> }
    const layer = manifest.layers[0]!.digest.slice(7)
    const data = path.join(registry.storage, 'docker/registry/v2/blobs/sha256', layer.slice(0, 2), layer, 'data')
    const bytes = readFileSync(data)
    bytes[bytes.length - 10]! ^= 0xff
    writeFileSync(data, bytes)
    const pulled = await run(['image', 'pull', `${registry.host}/bad/blob:v1`, '--json'])
    expect(pulled.exitCode).not.toBe(0)
    expect(json(pulled.stdout).error?.code).toBe('INTEGRITY')
    expect(json(pulled.stdout).error?.message).toContain('does not match its sha256')
    expect(existsSync(path.join(home, 'images/blobs/sha256', layer))).toBe(false)
    expect(existsSync(path.join(home, 'images/partial', layer))).toBe(false)
  })

  it('resumes an interrupted download from the bytes it has (a Range request)', async () => {
    const content = 'x'.repeat(200_000) + Math.random()
    const digest = await pushRawImage(registry.host, 'resume/me', 'v1', [[{ name: 'big', content }]])
    const manifest = (await (
      await fetch(`http://${registry.host}/v2/resume/me/manifests/${digest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      })
    ).json()) as { layers: Array<{ digest: string }> }
    const layer = manifest.layers[0]!.digest.slice(7)
    const data = path.join(registry.storage, 'docker/registry/v2/blobs/sha256', layer.slice(0, 2), layer, 'data')
    const original = readFileSync(data)
    const half = Math.floor(original.length / 2)
    // The first half is where an earlier pull stopped; the registry's copy of that half is then
    // spoiled, so only a pull that asks for the rest (Range) and keeps its own first half succeeds.
    mkdirSync(path.join(home, 'images/partial'), { recursive: true })
    writeFileSync(path.join(home, 'images/partial', layer), original.subarray(0, half))
    const spoiled = Buffer.from(original)
    spoiled.fill(0, 0, half)
    writeFileSync(data, spoiled)
    const pulled = await run(['image', 'pull', `${registry.host}/resume/me:v1`, '--json'])
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0)
    expect(readFileSync(path.join(json<PullResult>(pulled.stdout).result.rootfs, 'big'), 'utf8')).toBe(content)
  })

  it('says clearly what is wrong with a name, a missing image, or an unreachable registry', async () => {
    const invalid = await run(['image', 'pull', 'Bad Name!'])
    expect(invalid.exitCode).toBe(2)
    expect(invalid.stderr).toContain('invalid image reference')
    expect(invalid.stderr).not.toMatch(STACK_LINE)
    const missing = await run(['image', 'pull', `${registry.host}/no/such:thing`, '--json'])
    expect(json(missing.stdout).error?.code).toBe('NOT_FOUND')
    const closed = await run(['image', 'pull', '127.0.0.1:1/x:y', '--json'])
    expect(json(closed.stdout).error?.message).toContain('cannot reach registry 127.0.0.1:1')
  })

  it('rm forgets a name and prune frees what no name needs', async () => {
    const listedBefore = await run(['image', 'ls', '--json'])
    const busybox = json<{ images: Array<{ name: string; digest: string }> }>(listedBefore.stdout).result.images.find(
      (image) => image.name.endsWith('tools/busybox:1'),
    )!
    const others = readdirSync(path.join(home, 'images/rootfs')).filter((name) => name !== busybox.digest.slice(7))
    const removed = await run(['image', 'rm', `${registry.host}/tools/busybox:1`, '--json'])
    expect(removed.exitCode, removed.stdout).toBe(0)
    const again = await run(['image', 'rm', `${registry.host}/tools/busybox:1`, '--json'])
    expect(json(again.stdout).error?.code).toBe('NOT_FOUND')
    const pruned = await run(['image', 'prune', '--json'])
    const result = json<{ blobs: number; rootfs: number }>(pruned.stdout).result
    // Its manifest, config and two layers, and the manifest and config a refused pull left.
    expect(result.blobs).toBe(6)
    expect(result.rootfs).toBe(1)
    expect(existsSync(path.join(home, 'images/blobs/sha256', busybox.digest.slice(7)))).toBe(false)
    expect(readdirSync(path.join(home, 'images/rootfs')).sort()).toEqual(others.sort())
    const listed = await run(['image', 'ls', '--json'])
    expect(
      json<{ images: Array<{ name: string }> }>(listed.stdout).result.images.map((image) => image.name),
    ).not.toContain(`${registry.host}/tools/busybox:1`)
  })
})
