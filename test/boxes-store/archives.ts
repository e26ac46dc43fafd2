import { createHash } from 'node:crypto'
import { treeChecksum, type TreeEntry } from '../../src/util/tree.js'

/** A tar header written by hand, independent of the writer under test, so it can say anything. */
export function header(name: string, typeflag: string, size: number, linkname = '', checksumDelta = 0): Buffer {
  const block = Buffer.alloc(512)
  block.write(name, 0, 100)
  block.write('0000644\0', 100)
  block.write('0000000\0', 108)
  block.write('0000000\0', 116)
  block.write(`${size.toString(8).padStart(11, '0')}\0`, 124)
  block.write('00000000000\0', 136)
  block.fill(' ', 148, 156)
  block.write(typeflag, 156)
  block.write(linkname, 157, 100)
  block.write('ustar\0', 257)
  block.write('00', 263)
  let sum = checksumDelta
  for (const byte of block) sum += byte
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148)
  return block
}

export function pad(size: number): Buffer {
  return Buffer.alloc((512 - (size % 512)) % 512)
}

export interface Raw {
  name: string
  type?: string
  body?: Buffer
  link?: string
  checksumDelta?: number
}

export const sha = (body: Buffer): string => createHash('sha256').update(body).digest('hex')

export function manifestFor(entries: TreeEntry[]): Buffer {
  const box = {
    format: 'devenv-box/1',
    name: 'evil',
    tag: 'v1',
    kind: 'postgres',
    baseBox: 'postgres',
    baseVersion: '17',
    created: new Date().toISOString(),
    size: entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.size : 0), 0),
    files: entries.filter((entry) => entry.type === 'file').length,
    checksum: treeChecksum(entries),
    recipe: { ports: [5432] },
    entries,
  }
  return Buffer.from(JSON.stringify({ format: 'devenv-box-archive/1', box }))
}

export const good = Buffer.from('legitimate content\n')
export const goodEntries: TreeEntry[] = [
  { type: 'file', path: 'ok.txt', mode: 0o644, size: good.length, sha256: sha(good) },
]

export function archive(listed: TreeEntry[], raws: Raw[]): Buffer {
  const manifest = manifestFor(listed)
  const parts = [
    header('devenv-box.json', '0', manifest.length),
    manifest,
    pad(manifest.length),
    header('data/', '5', 0),
  ]
  for (const raw of raws) {
    const body = raw.body ?? Buffer.alloc(0)
    parts.push(
      header(raw.name, raw.type ?? '0', body.length, raw.link ?? '', raw.checksumDelta ?? 0),
      body,
      pad(body.length),
    )
  }
  parts.push(Buffer.alloc(1024))
  return Buffer.concat(parts)
}
