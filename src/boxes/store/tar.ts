/**
 * A minimal POSIX tar (ustar + pax extended headers) writer and a strict streaming reader.
 * Only what box archives need: regular files, folders, symbolic links. The reader parses and
 * reports; deciding what is acceptable is the importer's job (archive.ts).
 */
import { DevenvError } from '../../errors.js'

const BLOCK = 512

export type TarType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo' | 'other'

export interface TarHeader {
  path: string
  type: TarType
  /** The raw typeflag, for messages about entries that are refused. */
  typeflag: string
  mode: number
  size: number
  linkpath: string
  mtime: number
}

// ---------------------------------------------------------------- writing

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`
}

function putString(block: Buffer, offset: number, width: number, text: string): void {
  block.write(text, offset, Math.min(width, Buffer.byteLength(text)), 'utf8')
}

/** A pax record: "<length> <key>=<value>\n", where length counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = Buffer.byteLength(` ${key}=${value}\n`)
  let length = body + 1
  while (body + String(length).length !== length) length = body + String(length).length
  return `${length} ${key}=${value}\n`
}

function rawHeader(fields: { name: string; mode: number; size: number; mtime: number; typeflag: string; linkname: string }): Buffer {
  const block = Buffer.alloc(BLOCK)
  putString(block, 0, 100, fields.name)
  putString(block, 100, 8, octal(fields.mode & 0o7777, 8))
  putString(block, 108, 8, octal(0, 8))
  putString(block, 116, 8, octal(0, 8))
  putString(block, 124, 12, octal(fields.size, 12))
  putString(block, 136, 12, octal(Math.floor(fields.mtime), 12))
  block.fill(' ', 148, 156)
  putString(block, 156, 1, fields.typeflag)
  putString(block, 157, 100, fields.linkname)
  putString(block, 257, 6, 'ustar\0')
  putString(block, 263, 2, '00')
  let sum = 0
  for (const byte of block) sum += byte
  putString(block, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `)
  return block
}

const MAX_OCTAL_SIZE = 0o77777777777
const FLAGS: Record<'file' | 'dir' | 'symlink', string> = { file: '0', dir: '5', symlink: '2' }

/** The header block(s) of one entry: a pax header first when the name, link or size does not fit ustar. */
export function tarHeader(entry: { path: string; type: 'file' | 'dir' | 'symlink'; mode: number; size?: number; linkpath?: string; mtime?: number }): Buffer {
  const size = entry.type === 'file' ? (entry.size ?? 0) : 0
  const linkpath = entry.linkpath ?? ''
  const mtime = entry.mtime ?? Date.now() / 1000
  const name = entry.type === 'dir' && !entry.path.endsWith('/') ? `${entry.path}/` : entry.path
  let pax = ''
  if (Buffer.byteLength(name) > 100 || /[^\x20-\x7e]/.test(name)) pax += paxRecord('path', name)
  if (Buffer.byteLength(linkpath) > 100 || /[^\x20-\x7e]/.test(linkpath)) pax += paxRecord('linkpath', linkpath)
  if (size > MAX_OCTAL_SIZE) pax += paxRecord('size', String(size))
  const main = rawHeader({
    name: pax.includes(' path=') ? 'PaxLongName' : name,
    mode: entry.mode,
    size: size > MAX_OCTAL_SIZE ? 0 : size,
    mtime,
    typeflag: FLAGS[entry.type],
    linkname: pax.includes(' linkpath=') ? '' : linkpath,
  })
  if (!pax) return main
  const body = Buffer.from(pax)
  return Buffer.concat([rawHeader({ name: 'PaxHeader', mode: 0o644, size: body.length, mtime, typeflag: 'x', linkname: '' }), padded(body), main])
}

export function padding(size: number): Buffer {
  const rest = size % BLOCK
  return Buffer.alloc(rest === 0 ? 0 : BLOCK - rest)
}

function padded(body: Buffer): Buffer {
  return Buffer.concat([body, padding(body.length)])
}

/** Two zero blocks end an archive. */
export const TAR_END = Buffer.alloc(BLOCK * 2)

// ---------------------------------------------------------------- reading

function corrupt(message: string): DevenvError {
  return new DevenvError('ARCHIVE', `not a valid box archive: ${message}`)
}

/** Bytes pulled from an async source on demand, in exact amounts. */
class ByteSource {
  private chunks: Buffer[] = []
  private buffered = 0
  private ended = false
  private readonly iterator: AsyncIterator<Buffer>

  constructor(source: AsyncIterable<Buffer>) {
    this.iterator = source[Symbol.asyncIterator]()
  }

  /** Buffers at least n bytes; false if the source ends first. */
  private async fill(n: number): Promise<boolean> {
    while (this.buffered < n && !this.ended) {
      const next = await this.iterator.next()
      if (next.done) this.ended = true
      else if (next.value.length) {
        this.chunks.push(next.value)
        this.buffered += next.value.length
      }
    }
    return this.buffered >= n
  }

  private take(n: number): Buffer {
    const joined = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks)
    const taken = joined.subarray(0, n)
    const rest = joined.subarray(n)
    this.chunks = rest.length ? [rest] : []
    this.buffered = rest.length
    return taken
  }

  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.fill(n))) return undefined
    return Buffer.from(this.take(n))
  }

  /** Exactly n bytes, handed out as they arrive. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let left = n
    while (left > 0) {
      if (!this.buffered && !(await this.fill(1))) throw corrupt('the archive ends in the middle of an entry')
      const size = Math.min(left, this.buffered, 1 << 20)
      const piece = this.take(size)
      left -= size
      yield piece
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _piece of this.stream(n)) {
      // discarded
    }
  }

  async atEnd(): Promise<boolean> {
    return !(await this.fill(1))
  }
}

function parseOctal(field: Buffer, what: string): number {
  const text = field.toString('latin1').replace(/[\0 ]+$/, '').replace(/^ +/, '')
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) throw corrupt(`${what} field is not an octal number`)
  const value = Number.parseInt(text, 8)
  if (!Number.isSafeInteger(value)) throw corrupt(`${what} is too large`)
  return value
}

function cString(field: Buffer): string {
  const end = field.indexOf(0)
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8')
}

function typeOf(flag: string): TarType {
  switch (flag) {
    case '0':
    case '\0':
    case '7':
      return flag === '7' ? 'other' : 'file'
    case '5':
      return 'dir'
    case '2':
      return 'symlink'
    case '1':
      return 'hardlink'
    case '3':
      return 'char-device'
    case '4':
      return 'block-device'
    case '6':
      return 'fifo'
    default:
      return 'other'
  }
}

function parsePax(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {}
  let offset = 0
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset)
    if (space === -1 || space - offset > 20) throw corrupt('malformed pax header')
    const length = Number(body.subarray(offset, space).toString('latin1'))
    if (!Number.isSafeInteger(length) || length <= space - offset + 1 || offset + length > body.length) throw corrupt('malformed pax header')
    const record = body.subarray(space + 1, offset + length)
    if (record[record.length - 1] !== 0x0a) throw corrupt('malformed pax header')
    const text = record.subarray(0, record.length - 1).toString('utf8')
    const equals = text.indexOf('=')
    if (equals <= 0) throw corrupt('malformed pax header')
    records[text.slice(0, equals)] = text.slice(equals + 1)
    offset += length
  }
  return records
}

export interface ReadLimits {
  /** Largest pax header body accepted. */
  maxPaxBytes: number
}

export interface TarEntry {
  header: TarHeader
  /** The entry's content: must be consumed (or left, and it is skipped) before the next entry is asked for. */
  body: AsyncIterable<Buffer>
}

/**
 * Entries of a tar stream, one at a time. Headers are checked (checksum, magic, numbers) and
 * pax `path`, `linkpath` and `size` applied; anything malformed throws an ARCHIVE error.
 */
export async function* readTar(source: AsyncIterable<Buffer>, limits: ReadLimits = { maxPaxBytes: 64 * 1024 }): AsyncGenerator<TarEntry> {
  const bytes = new ByteSource(source)
  let pax: Record<string, string> = {}
  for (;;) {
    const block = await bytes.read(BLOCK)
    if (!block) throw corrupt('the archive ends without its end marker')
    if (block.every((byte) => byte === 0)) {
      // End of archive: the second zero block is optional in practice, anything else after is not.
      const second = await bytes.read(BLOCK)
      if (second && !second.every((byte) => byte === 0)) throw corrupt('data after the end marker')
      return
    }
    const recorded = parseOctal(block.subarray(148, 156), 'checksum')
    let sum = 0
    for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 0x20 : block[index]!
    if (sum !== recorded) throw corrupt('a header checksum does not match')
    if (block.subarray(257, 262).toString('latin1') !== 'ustar') throw corrupt('not a ustar archive')
    const typeflag = String.fromCharCode(block[156]!)
    let size = parseOctal(block.subarray(124, 136), 'size')
    if (typeflag === 'x') {
      if (size > limits.maxPaxBytes) throw corrupt('a pax header is too large')
      const body = await bytes.read(size + padding(size).length)
      if (!body) throw corrupt('the archive ends in a pax header')
      pax = parsePax(body.subarray(0, size))
      continue
    }
    if (typeflag === 'g' || typeflag === 'L' || typeflag === 'K') throw corrupt(`unsupported header type "${typeflag}"`)
    const prefix = cString(block.subarray(345, 500))
    const name = cString(block.subarray(0, 100))
    let entryPath = pax.path ?? (prefix ? `${prefix}/${name}` : name)
    if (pax.size !== undefined) {
      if (!/^[0-9]{1,16}$/.test(pax.size)) throw corrupt('a pax size is not a number')
      size = Number(pax.size)
    }
    const type = typeOf(typeflag)
    if (type === 'dir' || type === 'symlink' || type === 'hardlink' || type === 'char-device' || type === 'block-device' || type === 'fifo') {
      // These carry no content; a size on them would be a trick to desynchronise readers.
      if (size !== 0 && type !== 'dir') throw corrupt(`${entryPath} has a size but no content`)
    }
    if (type === 'dir' && entryPath.endsWith('/')) entryPath = entryPath.replace(/\/+$/, '')
    const header: TarHeader = {
      path: entryPath,
      type,
      typeflag,
      mode: parseOctal(block.subarray(100, 108), 'mode'),
      size,
      linkpath: pax.linkpath ?? cString(block.subarray(157, 257)),
      mtime: parseOctal(block.subarray(136, 148), 'mtime'),
    }
    pax = {}
    let delivered = 0
    let started = false
    const body = (async function* () {
      if (started) return
      started = true
      for await (const piece of bytes.stream(size)) {
        delivered += piece.length
        yield piece
      }
    })()
    yield { header, body }
    // Skip what the consumer left, so the next header starts at the right place.
    await bytes.skip(size - delivered + padding(size).length)
  }
}
