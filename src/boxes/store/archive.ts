import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, promises as fs, statfsSync } from 'node:fs'
import path from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { DevenvError } from '../../errors.js'
import { fsyncFolder, writeJsonAtomic } from '../../state/index.js'
import { syncTree, treeChecksum, type TreeEntry } from '../../util/tree.js'
import { isBuiltinBox } from '../../envfile/index.js'
import { checkDeclaredSize, describeReadError, openArchive, refused } from './archive-input.js'
import { withImportedModes } from './modes.js'
import { BOX_FORMAT, summaryOf, type BoxRecord, type BoxSummary } from './record.js'
import { formatRef, isValidBoxName, isValidTag, type CommittedRef } from './refs.js'
import { boxDir, makeWorkDir, publishBox, readBoxRecord, requireBox } from './store.js'
import { padding, readTar, TAR_END, tarHeader, type TarHeader } from './tar.js'

/**
 * A box archive is one tar file (gzip optional): first `devenv-box.json`, the manifest (the
 * box record, listing every data entry with its size and sha256), then `data/` and its entries.
 */
export const ARCHIVE_MANIFEST = 'devenv-box.json'
const ARCHIVE_FORMAT = 'devenv-box-archive/1'

interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT
  box: BoxRecord
}

export interface ImportLimits {
  maxEntries: number
  maxEntryBytes: number
  maxTotalBytes: number
  maxManifestBytes: number
}

export const DEFAULT_IMPORT_LIMITS: ImportLimits = {
  maxEntries: 200_000,
  maxEntryBytes: 64 * 1024 ** 3,
  maxTotalBytes: 256 * 1024 ** 3,
  maxManifestBytes: 64 * 1024 ** 2,
}

// ---------------------------------------------------------------- export

export interface ExportResult {
  box: BoxSummary
  file: string
  bytes: number
  gzip: boolean
  entries: number
}

/** Writes the box to one file, aside and renamed into place; gzip when asked or when the name ends in .gz/.tgz. */
export async function exportBox(ref: CommittedRef, file: string, options: { gzip?: boolean } = {}): Promise<ExportResult> {
  const record = requireBox(ref)
  const root = path.join(boxDir(ref), 'data')
  const gzip = options.gzip ?? /\.(t?gz)$/i.test(file)
  const target = path.resolve(file)
  const temporary = path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  const manifest = Buffer.from(`${JSON.stringify({ format: ARCHIVE_FORMAT, box: record } satisfies ArchiveManifest, null, 2)}\n`)
  const mtime = Math.floor(Date.parse(record.created) / 1000)
  async function* chunks(): AsyncGenerator<Buffer> {
    yield tarHeader({ path: ARCHIVE_MANIFEST, type: 'file', mode: 0o644, size: manifest.length, mtime })
    yield manifest
    yield padding(manifest.length)
    yield tarHeader({ path: 'data', type: 'dir', mode: 0o700, mtime })
    for (const entry of record.entries) {
      const name = `data/${entry.path}`
      if (entry.type === 'dir') yield tarHeader({ path: name, type: 'dir', mode: entry.mode, mtime })
      else if (entry.type === 'symlink') yield tarHeader({ path: name, type: 'symlink', mode: 0o777, linkpath: entry.target, mtime })
      else {
        yield tarHeader({ path: name, type: 'file', mode: entry.mode, size: entry.size, mtime })
        const hash = createHash('sha256')
        let size = 0
        for await (const piece of createReadStream(path.join(root, entry.path), { highWaterMark: 1 << 20 })) {
          hash.update(piece as Buffer)
          size += (piece as Buffer).length
          yield piece as Buffer
        }
        if (size !== entry.size || hash.digest('hex') !== entry.sha256) {
          throw new DevenvError('BOX', `box ${formatRef(ref)}: ${entry.path} changed since it was committed`, { hint: 'Remove the box and commit it again.' })
        }
        yield padding(size)
      }
    }
    yield TAR_END
  }
  try {
    // 0600: a box holds its databases' passwords and the PostgreSQL superuser's.
    const output = createWriteStream(temporary, { flags: 'wx', mode: 0o600 })
    if (gzip) await pipeline(Readable.from(chunks()), createGzip({ level: 6 }), output)
    else await pipeline(Readable.from(chunks()), output)
    const handle = await fs.open(temporary, 'r')
    await handle.sync().finally(() => handle.close())
    await fs.rename(temporary, target)
    fsyncFolder(path.dirname(target))
  } catch (error) {
    await fs.rm(temporary, { force: true })
    throw error
  }
  const bytes = (await fs.stat(target)).size
  return { box: summaryOf(record), file: target, bytes, gzip, entries: record.entries.length + 2 }
}

// ---------------------------------------------------------------- import

/** A relative '/'-separated path of plain components: no absolute path, '.', '..', empty part, backslash or control character. */
function isSafeRelative(candidate: string): boolean {
  if (!candidate || candidate.length > 4096 || candidate.startsWith('/')) return false
  if (/[\\\u0000-\u001f\u007f]/.test(candidate)) return false
  return candidate.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && Buffer.byteLength(part) <= 255)
}

/** A link target stays inside data/ when resolved lexically from the link's own folder. */
function linkStaysInside(linkPath: string, target: string): boolean {
  if (!target || target.startsWith('/') || /[\\\u0000]/.test(target)) return false
  const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(`data/${linkPath}`), target))
  return resolved === 'data' || resolved.startsWith('data/')
}

function describeType(header: TarHeader): string {
  switch (header.type) {
    case 'hardlink':
      return 'a hard link'
    case 'char-device':
    case 'block-device':
      return 'a device file'
    case 'fifo':
      return 'a named pipe'
    default:
      return `an entry of type "${header.typeflag}"`
  }
}

function validateRecord(file: string, box: BoxRecord | undefined, limits: ImportLimits): BoxRecord {
  if (!box || typeof box !== 'object' || box.format !== BOX_FORMAT) throw refused(file, 'the manifest is not a devenv box manifest')
  if (typeof box.name !== 'string' || !isValidBoxName(box.name) || isBuiltinBox(box.name)) throw refused(file, `invalid box name ${JSON.stringify(box.name)}`)
  if (typeof box.tag !== 'string' || !isValidTag(box.tag)) throw refused(file, `invalid tag ${JSON.stringify(box.tag)}`)
  if (typeof box.kind !== 'string' || !isBuiltinBox(box.kind)) throw refused(file, `unknown base box ${JSON.stringify(box.kind)}`)
  if (!Array.isArray(box.entries) || box.entries.length > limits.maxEntries) throw refused(file, 'the manifest lists too many entries, or none')
  const seen = new Set<string>()
  let total = 0
  for (const entry of box.entries) {
    if (!entry || typeof entry.path !== 'string' || !isSafeRelative(entry.path)) throw refused(file, `unsafe path in the manifest: ${JSON.stringify(entry?.path)}`)
    if (seen.has(entry.path)) throw refused(file, `${entry.path} is listed twice`)
    seen.add(entry.path)
    if (entry.type === 'file') {
      if (!Number.isSafeInteger(entry.size) || entry.size < 0 || entry.size > limits.maxEntryBytes) throw refused(file, `${entry.path} is too large (${entry.size} bytes)`)
      if (typeof entry.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(entry.sha256)) throw refused(file, `${entry.path} has no valid sha256`)
      total += entry.size
    } else if (entry.type === 'symlink') {
      if (typeof entry.target !== 'string' || !linkStaysInside(entry.path, entry.target)) throw refused(file, `symbolic link ${entry.path} points outside the box (${entry.target})`)
    } else if (entry.type !== 'dir') throw refused(file, `${(entry as { path: string }).path} has an unknown type`)
  }
  if (total > limits.maxTotalBytes) throw refused(file, `the box holds ${total} bytes, more than the limit of ${limits.maxTotalBytes}`)
  if (treeChecksum(box.entries) !== box.checksum) throw refused(file, 'the manifest does not match its own checksum')
  return withImportedModes(box)
}

/**
 * Checks one entry of the archive against the manifest and the rules, before anything is
 * written: its path, its type, that its folder was declared before it and is no link.
 */
function checkEntry(file: string, header: TarHeader, expected: Map<string, TreeEntry>, declared: Map<string, 'dir' | 'symlink' | 'file'>): TreeEntry | undefined {
  if (!isSafeRelative(header.path)) throw refused(file, `unsafe entry path ${JSON.stringify(header.path)}`)
  if (header.type !== 'file' && header.type !== 'dir' && header.type !== 'symlink') throw refused(file, `${header.path} is ${describeType(header)}`)
  if (declared.has(header.path)) throw refused(file, `${header.path} appears twice`)
  if (header.path === 'data') {
    if (header.type !== 'dir') throw refused(file, 'data is not a folder')
    declared.set('data', 'dir')
    return undefined
  }
  if (!header.path.startsWith('data/')) throw refused(file, `unexpected entry ${header.path} outside data/`)
  const parent = path.posix.dirname(header.path)
  if (declared.get(parent) !== 'dir') throw refused(file, `${header.path} comes before its folder, or its folder is not a folder`)
  const relative = header.path.slice('data/'.length)
  const entry = expected.get(relative)
  if (!entry) throw refused(file, `${header.path} is not in the manifest`)
  if (entry.type !== header.type) throw refused(file, `${header.path} is a ${header.type} in the archive but a ${entry.type} in the manifest`)
  if (entry.type === 'file' && entry.size !== header.size) throw refused(file, `${header.path} is ${header.size} bytes, the manifest says ${entry.size}`)
  if (entry.type === 'symlink' && (entry.target !== header.linkpath || !linkStaysInside(relative, header.linkpath))) throw refused(file, `symbolic link ${header.path} points outside the box (${header.linkpath})`)
  declared.set(header.path, header.type)
  return entry
}

async function hashBody(body: AsyncIterable<Buffer>, sink?: (piece: Buffer) => Promise<void>): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const piece of body) {
    hash.update(piece)
    size += piece.length
    if (sink) await sink(piece)
  }
  return { sha256: hash.digest('hex'), size }
}

/**
 * One pass over the archive. Without `into`, it only checks (nothing is written anywhere);
 * with it, it writes the entries below `into` and checks them again as it goes, since the file
 * could change between the two passes.
 */
async function walkArchive(file: string, limits: ImportLimits, into?: string): Promise<BoxRecord> {
  let record: BoxRecord | undefined
  let expected = new Map<string, TreeEntry>()
  const declared = new Map<string, 'dir' | 'symlink' | 'file'>()
  let count = 0
  const input = await openArchive(file, limits.maxManifestBytes)
  try {
    for await (const { header, body } of readTar(input.chunks)) {
      if (++count > limits.maxEntries + 2) throw refused(file, `more than ${limits.maxEntries} entries`)
      if (!record) {
        if (header.path !== ARCHIVE_MANIFEST || header.type !== 'file') throw refused(file, `the first entry must be ${ARCHIVE_MANIFEST}`)
        if (header.size > limits.maxManifestBytes) throw refused(file, 'the manifest is too large')
        const pieces: Buffer[] = []
        for await (const piece of body) pieces.push(piece)
        let parsed: ArchiveManifest
        try {
          parsed = JSON.parse(Buffer.concat(pieces).toString('utf8')) as ArchiveManifest
        } catch {
          throw refused(file, 'the manifest is not JSON')
        }
        if (parsed?.format !== ARCHIVE_FORMAT) throw refused(file, 'unknown archive format')
        record = validateRecord(file, parsed.box, limits)
        expected = new Map(record.entries.map((entry) => [entry.path, entry]))
        const declaredBytes = record.entries.reduce((sum, entry) => sum + (entry.type === 'file' ? entry.size : 0), 0)
        checkDeclaredSize(file, input, declaredBytes, record.entries.length, header.size + 1024)
        continue
      }
      const entry = checkEntry(file, header, expected, declared)
      const target = into ? path.join(into, header.path) : undefined
      if (!entry) {
        if (target) await fs.mkdir(target, { mode: 0o700 })
        continue
      }
      if (entry.type === 'dir') {
        if (target) await fs.mkdir(target, { mode: 0o700 })
      } else if (entry.type === 'symlink') {
        if (target) await fs.symlink(entry.target, target)
      } else {
        const handle = target ? await fs.open(target, 'wx', 0o600) : undefined
        try {
          const found = await hashBody(body, handle ? async (piece) => void (await handle.write(piece)) : undefined)
          if (found.size !== entry.size || found.sha256 !== entry.sha256) throw refused(file, `${header.path} does not match its sha256 in the manifest`)
        } finally {
          await handle?.close()
        }
      }
    }
  } catch (error) {
    throw describeReadError(file, input.gzip, error)
  }
  if (!record) throw refused(file, 'the archive is empty')
  if (!declared.has('data')) throw refused(file, 'the archive has no data folder')
  const missing = record.entries.find((entry) => !declared.has(`data/${entry.path}`))
  if (missing) throw refused(file, `${missing.path} is in the manifest but not in the archive`)
  return record
}

function checkSpace(file: string, record: BoxRecord, folder: string): void {
  try {
    const stats = statfsSync(folder)
    const free = stats.bavail * stats.bsize
    if (record.size > free) throw refused(file, `the box needs ${record.size} bytes; ${free} are free`)
  } catch (error) {
    if (error instanceof DevenvError) throw error
  }
}

/** Modes as normalised by withImportedModes: an archive does not get to grant setuid, world-writable files or readable secrets. */
async function applyModes(root: string, record: BoxRecord): Promise<void> {
  for (const entry of [...record.entries].reverse()) {
    if (entry.type !== 'symlink') await fs.chmod(path.join(root, entry.path), entry.mode & 0o777)
  }
}

export interface ImportResult {
  box: BoxSummary
  replaced: boolean
}

/**
 * Imports a box archive into the store. The whole archive is read and checked first, writing
 * nothing; only then is it extracted into a work folder inside the store (checked again), and
 * renamed into place. A refused archive leaves nothing behind.
 */
export async function importBox(file: string, options: { replace?: boolean; limits?: Partial<ImportLimits> } = {}): Promise<ImportResult> {
  const limits = { ...DEFAULT_IMPORT_LIMITS, ...options.limits }
  const source = path.resolve(file)
  try {
    if (!(await fs.stat(source)).isFile()) throw new Error('not a file')
  } catch {
    throw new DevenvError('NOT_FOUND', `cannot read ${file}: no such file`)
  }
  const record = await walkArchive(source, limits)
  const ref = { name: record.name, tag: record.tag }
  const existing = readBoxRecord(ref)
  if (existing && !options.replace) {
    throw new DevenvError('EXISTS', `box ${formatRef(ref)} is already in the box store`, { hint: `Remove it first (devenv box remove ${formatRef(ref)}), or import with --force to replace it.` })
  }
  const work = await makeWorkDir()
  try {
    checkSpace(source, record, work)
    const again = await walkArchive(source, limits, work)
    if (again.checksum !== record.checksum) throw refused(source, 'the archive changed while it was imported')
    await applyModes(path.join(work, 'data'), record)
    // Durable before publishBox renames it into the store: one syncfs, not one fsync per file.
    await syncTree(path.join(work, 'data'), record.entries)
    writeJsonAtomic(path.join(work, 'box.json'), record, 0o600)
    await publishBox(work, ref, options.replace)
  } catch (error) {
    await fs.rm(work, { recursive: true, force: true })
    throw error
  }
  return { box: summaryOf(record), replaced: Boolean(existing) }
}
