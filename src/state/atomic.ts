import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs'
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
