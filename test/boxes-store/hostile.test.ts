import { existsSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { importBox, type ImportLimits } from '../../src/boxes/store/index.js'
import type { TreeEntry } from '../../src/util/tree.js'
import { cleanup, tempDir } from '../snapshots/helpers.js'
import { archive, good, goodEntries, header, manifestFor, pad, sha } from './archives.js'

let work: string
let home: string

beforeEach(() => {
  work = tempDir('devenv-hostile-')
  home = path.join(work, 'home')
  process.env.DEVENV_HOME = home
})
afterEach(() => {
  delete process.env.DEVENV_HOME
  cleanup(work)
})

async function expectRefused(bytes: Buffer, message: RegExp, limits?: Partial<ImportLimits>): Promise<void> {
  const drop = path.join(work, 'a', 'b')
  const { mkdirSync } = await import('node:fs')
  mkdirSync(drop, { recursive: true })
  const file = path.join(drop, 'box.tar')
  writeFileSync(file, bytes)
  await expect(importBox(file, limits ? { limits } : {})).rejects.toMatchObject({
    code: 'ARCHIVE',
    message: expect.stringMatching(message),
  })
  // Nothing anywhere: no store, nothing beside the archive, nothing in the folders above it.
  expect(existsSync(home)).toBe(false)
  expect(readdirSync(drop)).toEqual(['box.tar'])
  expect(readdirSync(path.join(work, 'a'))).toEqual(['b'])
  expect(readdirSync(work).sort()).toEqual(['a'])
  expect(existsSync('/tmp/devenv-evil-marker')).toBe(false)
}

describe('importing a hostile archive', () => {
  it('accepts the well-formed control archive (so the refusals below are about the hostile part)', async () => {
    const file = path.join(work, 'ok.tar')
    writeFileSync(file, archive(goodEntries, [{ name: 'data/ok.txt', body: good }]))
    const result = await importBox(file)
    expect(result.box.name).toBe('evil')
    expect(readdirSync(path.join(home, 'boxes', 'evil', 'v1', 'data'))).toEqual(['ok.txt'])
  })

  it('refuses ../ entries', async () => {
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/../../evil', body: good },
      ]),
      /unsafe entry path/,
    )
    await expectRefused(
      archive(goodEntries, [
        { name: '../evil', body: good },
        { name: 'data/ok.txt', body: good },
      ]),
      /unsafe entry path/,
    )
    const listedEscape: TreeEntry[] = [
      ...goodEntries,
      { type: 'file', path: '../../evil', mode: 0o644, size: good.length, sha256: sha(good) },
    ]
    await expectRefused(archive(listedEscape, [{ name: 'data/ok.txt', body: good }]), /unsafe path in the manifest/)
  })

  it('refuses absolute paths', async () => {
    await expectRefused(
      archive(goodEntries, [
        { name: '/tmp/devenv-evil-marker', body: good },
        { name: 'data/ok.txt', body: good },
      ]),
      /unsafe entry path/,
    )
  })

  it('refuses links pointing outside, and writing through links', async () => {
    const outside: TreeEntry[] = [...goodEntries, { type: 'symlink', path: 'link', target: '../../../etc' }]
    await expectRefused(
      archive(outside, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/link', type: '2', link: '../../../etc' },
      ]),
      /points outside/,
    )
    const absolute: TreeEntry[] = [...goodEntries, { type: 'symlink', path: 'link', target: '/etc' }]
    await expectRefused(
      archive(absolute, [
        { name: 'data/link', type: '2', link: '/etc' },
        { name: 'data/ok.txt', body: good },
      ]),
      /points outside/,
    )
    // The manifest is honest, the archive lies about the target.
    const inside: TreeEntry[] = [...goodEntries, { type: 'symlink', path: 'link', target: 'ok.txt' }]
    await expectRefused(
      archive(inside, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/link', type: '2', link: '/tmp' },
      ]),
      /points outside/,
    )
    const through: TreeEntry[] = [
      { type: 'symlink', path: 'dir', target: '.' },
      { type: 'file', path: 'dir/x', mode: 0o644, size: good.length, sha256: sha(good) },
    ]
    await expectRefused(
      archive(through, [
        { name: 'data/dir', type: '2', link: '.' },
        { name: 'data/dir/x', body: good },
      ]),
      /comes before its folder/,
    )
  })

  it('refuses hard links, device files and fifos', async () => {
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/h', type: '1', link: 'data/ok.txt' },
      ]),
      /hard link/,
    )
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/null', type: '3' },
      ]),
      /device file/,
    )
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/disk', type: '4' },
      ]),
      /device file/,
    )
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/pipe', type: '6' },
      ]),
      /named pipe/,
    )
  })

  it('refuses oversized entries and too many entries', async () => {
    await expectRefused(archive(goodEntries, [{ name: 'data/ok.txt', body: good }]), /too large/, { maxEntryBytes: 4 })
    await expectRefused(archive(goodEntries, [{ name: 'data/ok.txt', body: good }]), /more than the limit/, {
      maxTotalBytes: 4,
    })
    const many: TreeEntry[] = Array.from({ length: 5 }, (_, index) => ({ type: 'dir', path: `d${index}`, mode: 0o755 }))
    await expectRefused(
      archive(
        many,
        many.map((entry) => ({ name: `data/${entry.path}/`, type: '5' })),
      ),
      /too many entries/,
      { maxEntries: 3 },
    )
  })

  it('refuses bad checksums, sizes that disagree, unlisted entries, corrupt headers', async () => {
    await expectRefused(
      archive(goodEntries, [{ name: 'data/ok.txt', body: Buffer.from('legitimate CONTENT\n') }]),
      /does not match its sha256/,
    )
    await expectRefused(
      archive(goodEntries, [{ name: 'data/ok.txt', body: Buffer.from('short') }]),
      /the manifest says/,
    )
    await expectRefused(
      archive(goodEntries, [
        { name: 'data/ok.txt', body: good },
        { name: 'data/extra', body: good },
      ]),
      /not in the manifest/,
    )
    await expectRefused(archive(goodEntries, []), /in the manifest but not in the archive/)
    await expectRefused(
      archive(goodEntries, [{ name: 'data/ok.txt', body: good, checksumDelta: 1 }]),
      /header checksum/,
    )
    const tampered = JSON.parse(manifestFor(goodEntries).toString()) as { box: { checksum: string } }
    tampered.box.checksum = `sha256:${'0'.repeat(64)}`
    const body = Buffer.from(JSON.stringify(tampered))
    await expectRefused(
      Buffer.concat([header('devenv-box.json', '0', body.length), body, pad(body.length), Buffer.alloc(1024)]),
      /does not match its own checksum/,
    )
    await expectRefused(archive(goodEntries, [{ name: 'data/ok.txt', body: good }]).subarray(0, 1536), /ends/)
  })

  it('refuses hostile entries inside gzip too', async () => {
    await expectRefused(
      gzipSync(
        archive(goodEntries, [
          { name: 'data/ok.txt', body: good },
          { name: 'data/../../evil', body: good },
        ]),
      ),
      /unsafe entry path/,
    )
  })
})
