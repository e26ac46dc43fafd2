import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  promises as fs,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import path from 'node:path'

/**
 * Write aside, fsync, rename, fsync the folder: after a crash at any moment the file holds
 * either the old content or the new, never a mix.
 */
export function writeFileAtomic(file: string, content: string | Buffer, mode = 0o644): void {
  const folder = path.dirname(file)
  mkdirSync(folder, { recursive: true })
  const temporary = path.join(folder, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`)
  try {
    const fd = openSync(temporary, 'w', mode)
    try {
      writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
  fsyncFolder(folder)
}

/**
 * writeFileAtomic with its slow part (writing and flushing the new copy, then the folder) on
 * libuv's threads, so that a busy process (the supervisor starting services) is not held up by
 * the disk. The rename itself is done on the main thread, after `stillWanted()` says the copy is
 * not outdated by a write made meanwhile: a newer state is never replaced by an older one.
 * Returns whether the file was replaced.
 */
export async function writeFileAtomicAsync(
  file: string,
  content: string,
  stillWanted: () => boolean,
  mode = 0o644,
): Promise<boolean> {
  const folder = path.dirname(file)
  const temporary = path.join(folder, `.${path.basename(file)}.${process.pid}.${Date.now()}.async.tmp`)
  try {
    const handle = await fs.open(temporary, 'w', mode)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (!stillWanted()) {
      rmSync(temporary, { force: true })
      return false
    }
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
  const directory = await fs.open(folder, 'r').catch(() => undefined)
  await directory
    ?.sync()
    .catch(() => undefined)
    .finally(() => directory.close())
  return true
}

export function fsyncFolder(folder: string): void {
  try {
    const fd = openSync(folder, 'r')
    try {
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
  } catch {
    // Some filesystems refuse fsync on folders; the rename is still atomic there.
  }
}

/**
 * For a file made again from other state before every use (a box's config, written before each
 * start): left alone when it already holds `content` with `mode`, else written aside and renamed,
 * so a reader never sees half of it. Not flushed to disk: after a crash the next start makes it
 * again, and the two fsyncs of writeFileAtomic held the supervisor's start of a stack ~15 ms.
 */
export function writeDerivedFile(file: string, content: string, mode = 0o644): void {
  try {
    if ((statSync(file).mode & 0o777) === mode && readFileSync(file, 'utf8') === content) return
  } catch {
    // not there yet
  }
  mkdirSync(path.dirname(file), { recursive: true })
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`)
  try {
    writeFileSync(temporary, content, { mode })
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

export function writeJsonAtomic(file: string, value: unknown, mode?: number): void {
  writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, mode)
}

export function readJson<T>(file: string): T | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T
  } catch {
    return undefined
  }
}
