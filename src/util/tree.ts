import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import {
  closeSync,
  constants,
  createReadStream,
  fchmodSync,
  fchownSync,
  lstatSync,
  openSync,
  promises as fs,
  readdirSync,
  readFileSync,
  writeSync,
  type Stats,
} from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { DevenvError } from '../errors.js'
import { removeTreeAnyOwner } from './user-namespace.js'

/**
 * A folder as a list of entries: what a snapshot or a committed box records, compares and copies.
 * Paths are relative, '/'-separated, sorted by code unit so every machine computes the same checksum.
 */
export type TreeEntry =
  | { type: 'dir'; path: string; mode: number }
  | { type: 'file'; path: string; mode: number; size: number; sha256: string }
  | { type: 'symlink'; path: string; target: string }

export interface TreeSummary {
  entries: TreeEntry[]
  /** Sum of the file sizes. */
  size: number
  files: number
  /** sha256 over the sorted entry lines: see treeChecksum(). */
  checksum: string
}

/** Files copied or hashed at once: copies run in libuv's threads while the main thread hashes. */
const CONCURRENCY = 8
const HASH_CHUNK = 1 << 20

interface WalkedEntry {
  relative: string
  stats: Stats
}

/** Every entry below `root` (not root itself), parents before children. Sockets are skipped: they are runtime endpoints, not state. */
/**
 * Synchronous on purpose: a data folder holds thousands of small files, and a thread-pool round
 * trip per readdir/lstat costs more than the calls themselves.
 */
async function walk(root: string, skip?: Set<string>): Promise<WalkedEntry[]> {
  const found: WalkedEntry[] = []
  const visit = (relative: string): void => {
    const names = readdirSync(path.join(root, relative)).sort()
    for (const name of names) {
      const child = relative ? `${relative}/${name}` : name
      if (skip?.has(child)) continue
      const stats = lstatSync(path.join(root, child))
      if (stats.isSocket()) continue
      if (!stats.isDirectory() && !stats.isFile() && !stats.isSymbolicLink()) {
        throw new DevenvError(
          'SNAPSHOT',
          `cannot copy ${path.join(root, child)}: only files, folders and symbolic links can be saved`,
        )
      }
      found.push({ relative: child, stats })
      if (stats.isDirectory()) visit(child)
    }
  }
  visit('')
  return found
}

/** The line an entry contributes to the checksum: type, path, size and content hash (or link target). */
function entryLine(entry: TreeEntry): string {
  switch (entry.type) {
    case 'dir':
      return `dir\0${entry.path}\n`
    case 'file':
      return `file\0${entry.path}\0${entry.size}\0${entry.sha256}\n`
    case 'symlink':
      return `symlink\0${entry.path}\0${entry.target}\n`
  }
}

export function sortEntries(entries: TreeEntry[]): TreeEntry[] {
  return [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** sha256 over the sorted entry lines: equal checksums mean equal trees (paths, sizes, contents, links). */
export function treeChecksum(entries: TreeEntry[]): string {
  const hash = createHash('sha256')
  for (const entry of sortEntries(entries)) hash.update(entryLine(entry))
  return `sha256:${hash.digest('hex')}`
}

export function summarise(entries: TreeEntry[]): TreeSummary {
  const sorted = sortEntries(entries)
  let size = 0
  let files = 0
  for (const entry of sorted) {
    if (entry.type === 'file') {
      size += entry.size
      files += 1
    }
  }
  return { entries: sorted, size, files, checksum: treeChecksum(sorted) }
}

async function pool<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  const runners = Array.from({ length: Math.min(CONCURRENCY, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++]!
      await work(item)
    }
  })
  await Promise.all(runners)
}

export async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.open(file, 'r')
  try {
    await handle.sync()
  } catch {
    // Some filesystems refuse fsync on folders; renames are still atomic there.
  } finally {
    await handle.close()
  }
}

const run = promisify(execFile)

/**
 * Makes everything written below `root` durable before a rename publishes it. One fsync per
 * file costs a journal commit each (1,600 files of a PostgreSQL cluster: 1.5 s on ext4), so on
 * Linux one syncfs(2) of the filesystem does it (coreutils `sync -f`: Node has no binding): it
 * writes back every dirty page and inode there and commits the journal once, and reports
 * writeback errors (Linux 5.8+). Elsewhere, or if that fails, every file and folder is fsynced.
 */
export async function syncTree(root: string, entries: TreeEntry[]): Promise<void> {
  if (process.platform === 'linux' && process.env.DEVENV_SNAPSHOT_FSYNC !== 'each') {
    try {
      await run('sync', ['-f', root], { timeout: 120_000 })
      return
    } catch {
      // no coreutils sync, or it failed: fall back to fsync, file by file
    }
  }
  await pool(
    entries.filter((entry) => entry.type === 'file'),
    (entry) => fsyncPath(path.join(root, entry.path)),
  )
  const dirs = entries.filter((entry) => entry.type === 'dir').map((entry) => entry.path)
  for (const dir of [...dirs.reverse(), '']) await fsyncPath(path.join(root, dir))
}

export interface CopyOptions {
  /** Hash every copied file (the destination's bytes) and return the entries. */
  hash?: boolean
  /** Make every file and folder durable before returning (syncTree), so a rename that follows publishes durable content. */
  durable?: boolean
  /** Called with each file's expected entry (from a manifest) to compare against as it is hashed. */
  expect?: Map<string, TreeEntry>
  /** Relative paths left out, with everything below them. */
  skip?: Set<string>
  /**
   * Hard-link files instead of copying them: only for a folder whose files are never changed in
   * place (replaced by rename, or removed), so a file shared by a snapshot and the live folder
   * stays as it was in both. Falls back to a copy across filesystems.
   */
  link?: boolean
}

const runningAsRoot = typeof process.getuid === 'function' && process.getuid() === 0

/**
 * Copies the folder `source` to `target` (which must not exist): reflinks where the filesystem
 * can (COPYFILE_FICLONE: btrfs, XFS, APFS), a kernel-side copy otherwise. Keeps modes, and owners
 * when running as root (a database refuses a data folder it does not own).
 */
export async function copyTree(source: string, target: string, options: CopyOptions = {}): Promise<TreeEntry[]> {
  const rootStats = await fs.stat(source)
  if (!rootStats.isDirectory()) throw new DevenvError('SNAPSHOT', `${source} is not a folder`)
  const walked = await walk(source, options.skip)
  await fs.mkdir(target, { mode: 0o700 })
  const entries: TreeEntry[] = []
  const dirs: WalkedEntry[] = []
  const files: WalkedEntry[] = []
  for (const item of walked) {
    const to = path.join(target, item.relative)
    if (item.stats.isDirectory()) {
      await fs.mkdir(to, { mode: 0o700 })
      dirs.push(item)
      entries.push({ type: 'dir', path: item.relative, mode: item.stats.mode & 0o7777 })
    } else if (item.stats.isSymbolicLink()) {
      const linkTarget = await fs.readlink(path.join(source, item.relative))
      await fs.symlink(linkTarget, to)
      if (runningAsRoot) await fs.lchown(to, item.stats.uid, item.stats.gid)
      entries.push({ type: 'symlink', path: item.relative, target: linkTarget })
    } else {
      files.push(item)
    }
  }
  await pool(files, async (item) => {
    const copied = await copyOneFile(
      path.join(source, item.relative),
      path.join(target, item.relative),
      item.stats,
      options,
    ).catch((error: NodeJS.ErrnoException) => {
      throw error.code === 'EACCES' && !runningAsRoot ? unreadable(item.relative, item.stats) : error
    })
    const entry: TreeEntry = { type: 'file', path: item.relative, mode: item.stats.mode & 0o7777, ...copied }
    if (options.expect) checkAgainst(options.expect, entry)
    entries.push(entry)
  })
  // Folder modes last: a read-only folder would refuse the files copied into it.
  for (const item of [{ relative: '', stats: rootStats }, ...dirs].reverse()) {
    const to = path.join(target, item.relative)
    await fs.chmod(to, item.stats.mode & 0o7777)
    if (runningAsRoot && (item.stats.uid !== 0 || item.stats.gid !== 0))
      await fs.chown(to, item.stats.uid, item.stats.gid)
  }
  const sorted = sortEntries(entries)
  if (options.durable) await syncTree(target, sorted)
  return sorted
}

/** A file of another id (one an image service wrote as another user of its user namespace, without root). */
export function unreadable(file: string, stats: Stats): DevenvError {
  return new DevenvError(
    'SNAPSHOT',
    `cannot copy ${file}: only its owner (uid ${stats.uid} on this machine) may read it, and devenv is not root`,
    {
      hint: 'Files an image service writes as another user of its user namespace are copied only as root: run devenv as root, or have the service make them readable.',
    },
  )
}

function checkAgainst(expected: Map<string, TreeEntry>, found: TreeEntry & { type: 'file' }): void {
  const wanted = expected.get(found.path)
  if (!wanted || wanted.type !== 'file')
    throw new DevenvError('SNAPSHOT', `unexpected file ${found.path}: it is not in the manifest`)
  if (wanted.size !== found.size || wanted.sha256 !== found.sha256) {
    throw new DevenvError(
      'SNAPSHOT',
      `${found.path} does not match its recorded checksum (size ${found.size}, expected ${wanted.size})`,
      {
        hint: 'The snapshot was changed or damaged on disk; it cannot be restored as it is.',
      },
    )
  }
}

/** Below this size a file is read once, hashed from memory and written: fewer system calls than a kernel copy plus a second read. */
const SMALL_FILE = 1 << 20

async function copyOneFile(
  from: string,
  to: string,
  stats: Stats,
  options: CopyOptions,
): Promise<{ size: number; sha256: string }> {
  if (options.link && (await linked(from, to))) {
    return options.hash
      ? stats.size <= SMALL_FILE
        ? hashBytes(readFileSync(from))
        : await hashFileSized(from)
      : { size: stats.size, sha256: '' }
  }
  const mode = stats.mode & 0o7777
  if (stats.size <= SMALL_FILE) {
    // Synchronous, like walk(): for small files the thread-pool hops cost more than the I/O.
    const bytes = readFileSync(from)
    const fd = openSync(to, 'wx', 0o600)
    try {
      writeSync(fd, bytes)
      fchmodSync(fd, mode)
      if (runningAsRoot && (stats.uid !== 0 || stats.gid !== 0)) fchownSync(fd, stats.uid, stats.gid)
    } finally {
      closeSync(fd)
    }
    return { size: bytes.length, sha256: options.hash ? createHash('sha256').update(bytes).digest('hex') : '' }
  }
  // copyFile keeps the mode; FICLONE makes it a reflink where the filesystem can, a kernel-side
  // copy otherwise. The source is hashed at the same time, on the other core: one pass, not two.
  const copying = fs.copyFile(from, to, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE)
  const [, hashed] = await Promise.all([copying, options.hash ? hashFileSized(from) : undefined])
  const size = (await fs.stat(to)).size
  if (hashed && hashed.size !== size) throw new DevenvError('SNAPSHOT', `${from} changed while it was copied`)
  if (runningAsRoot && (stats.uid !== 0 || stats.gid !== 0)) await fs.chown(to, stats.uid, stats.gid)
  return { size, sha256: hashed?.sha256 ?? '' }
}

async function linked(from: string, to: string): Promise<boolean> {
  try {
    await fs.link(from, to)
    return true
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Another filesystem, or one without hard links: copy instead.
    if (code === 'EXDEV' || code === 'EPERM' || code === 'ENOTSUP' || code === 'EMLINK') return false
    throw error
  }
}

function hashBytes(bytes: Buffer): { size: number; sha256: string } {
  return { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') }
}

async function hashFileSized(file: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(file, { highWaterMark: HASH_CHUNK })) {
    hash.update(chunk as Buffer)
    size += (chunk as Buffer).length
  }
  return { size, sha256: hash.digest('hex') }
}

/** The entries of a folder as it is now, with file hashes; `skip` names relative paths left out. */
export async function scanTree(root: string, skip?: Set<string>): Promise<TreeEntry[]> {
  const walked = await walk(root, skip)
  const entries: TreeEntry[] = []
  const files: WalkedEntry[] = []
  for (const item of walked) {
    if (item.stats.isDirectory()) entries.push({ type: 'dir', path: item.relative, mode: item.stats.mode & 0o7777 })
    else if (item.stats.isSymbolicLink())
      entries.push({ type: 'symlink', path: item.relative, target: await fs.readlink(path.join(root, item.relative)) })
    else files.push(item)
  }
  await pool(files, async (item) => {
    const file = path.join(root, item.relative)
    const { size, sha256 } =
      item.stats.size <= SMALL_FILE ? hashBytes(await fs.readFile(file)) : await hashFileSized(file)
    entries.push({ type: 'file', path: item.relative, mode: item.stats.mode & 0o7777, size, sha256 })
  })
  return sortEntries(entries)
}

/** Compares two entry lists; returns the first difference, in words, or undefined when equal. */
export function firstDifference(expected: TreeEntry[], found: TreeEntry[]): string | undefined {
  const byPath = new Map(found.map((entry) => [entry.path, entry]))
  for (const entry of expected) {
    const other = byPath.get(entry.path)
    if (!other) return `${entry.path} is missing`
    if (entryLine(entry) !== entryLine(other)) return `${entry.path} differs`
    byPath.delete(entry.path)
  }
  const extra = byPath.keys().next()
  return extra.done ? undefined : `${extra.value} is not in the manifest`
}

export async function removeTree(target: string): Promise<void> {
  try {
    await fs.rm(target, { recursive: true, force: true, maxRetries: 3 })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    if (code !== 'EACCES' && code !== 'EPERM') throw error
    // Without root: files of a user namespace's other ids (an image service's writable layer).
    removeTreeAnyOwner(target)
  }
}

export async function exists(target: string): Promise<boolean> {
  try {
    await fs.lstat(target)
    return true
  } catch {
    return false
  }
}

/** The bytes of the regular files under `root` (links not followed): what a copy of it needs. */
export async function treeBytes(root: string): Promise<number> {
  let total = 0
  const visit = async (folder: string): Promise<void> => {
    for (const entry of await fs.readdir(folder, { withFileTypes: true }).catch(() => [])) {
      const child = path.join(folder, entry.name)
      if (entry.isDirectory()) await visit(child)
      else if (entry.isFile()) total += (await fs.lstat(child).catch(() => ({ size: 0 }))).size
    }
  }
  await visit(root)
  return total
}
