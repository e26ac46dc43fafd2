/** A minimal ustar writer, independent of the one under test, to build hostile archives. */
import { gzipSync } from 'node:zlib'

export interface RawEntry {
  name: string
  type: 'file' | 'dir' | 'symlink'
  body?: Buffer
  linkname?: string
  mode?: number
}

function field(header: Buffer, offset: number, length: number, value: string): void {
  header.write(value, offset, length, 'utf8')
}

function octal(value: number, length: number): string {
  return `${value.toString(8).padStart(length - 1, '0')}\0`
}

function header(entry: RawEntry): Buffer {
  const block = Buffer.alloc(512)
  const size = entry.type === 'file' ? (entry.body?.length ?? 0) : 0
  field(block, 0, 100, entry.type === 'dir' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name)
  field(block, 100, 8, octal(entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644), 8))
  field(block, 108, 8, octal(0, 8))
  field(block, 116, 8, octal(0, 8))
  field(block, 124, 12, octal(size, 12))
  field(block, 136, 12, octal(Math.floor(Date.now() / 1000), 12))
  field(block, 156, 1, entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2')
  field(block, 157, 100, entry.linkname ?? '')
  field(block, 257, 6, 'ustar\0')
  field(block, 263, 2, '00')
  block.fill(0x20, 148, 156)
  let sum = 0
  for (const byte of block) sum += byte
  field(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return block
}

export function tarGz(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const entry of entries) {
    parts.push(header(entry))
    if (entry.type === 'file' && entry.body?.length) {
      parts.push(entry.body, Buffer.alloc((512 - (entry.body.length % 512)) % 512))
    }
  }
  parts.push(Buffer.alloc(1024))
  return gzipSync(Buffer.concat(parts))
}
