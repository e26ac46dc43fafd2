import { randomBytes } from 'node:crypto'
import {
  chownSync,
  closeSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs'
import type { Stats } from 'node:fs'
import path from 'node:path'
import { fsyncFolder } from '../state/index.js'

/** The file-system calls a hosts write makes that tests need to make fail on purpose. */
export interface WriteIo {
  rename: (from: string, to: string) => void
}

export const systemIo: WriteIo = { rename: renameSync }

export type WriteMethod = 'rename' | 'in-place'

/** A rename onto a bind-mounted file (containers, CI) fails with one of these. */
const RENAME_IMPOSSIBLE = new Set(['EBUSY', 'EXDEV', 'EPERM'])
/** The folder refuses a file beside the hosts file; the hosts file itself may still be writable. */
const FOLDER_REFUSED = new Set(['EACCES', 'EPERM', 'EROFS'])

export function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code
}

/**
 * Replaces `file`'s content with `content`: written aside, fsynced and renamed over it, so the
 * file holds the old content or the new, never a mix. Where a rename cannot replace the file
 * (a bind mount) or no file can be made beside it, it is rewritten in place instead, and put
 * back as it was (`previous`) if that write fails. Mode and owner of the file are kept.
 */
export function writeHostsFile(file: string, content: Buffer, previous: Buffer, io: WriteIo = systemIo): WriteMethod {
  const existing = statOrUndefined(file)
  const folder = path.dirname(file)
  const temporary = path.join(
    folder,
    `.${path.basename(file)}.devenv-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  )
  let fd: number
  try {
    fd = openSync(temporary, 'wx', existing ? existing.mode & 0o7777 : 0o644)
  } catch (error) {
    if (existing && FOLDER_REFUSED.has(errorCode(error) ?? '')) return writeInPlace(file, content, previous)
    throw error
  }
  try {
    try {
      writeSync(fd, content)
      if (existing && (existing.uid !== process.getuid?.() || existing.gid !== process.getgid?.())) {
        try {
          chownSync(temporary, existing.uid, existing.gid)
        } catch {
          // Only root may give a file away; the content is what matters.
        }
      }
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    io.rename(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    if (existing && RENAME_IMPOSSIBLE.has(errorCode(error) ?? '')) return writeInPlace(file, content, previous)
    throw error
  }
  fsyncFolder(folder)
  return 'rename'
}

function writeInPlace(file: string, content: Buffer, previous: Buffer): WriteMethod {
  const fd = openSync(file, 'r+')
  try {
    try {
      writeSync(fd, content, 0, content.length, 0)
      ftruncateSync(fd, content.length)
      fsyncSync(fd)
    } catch (error) {
      try {
        writeSync(fd, previous, 0, previous.length, 0)
        ftruncateSync(fd, previous.length)
        fsyncSync(fd)
      } catch {
        // Nothing more can be done from here; the original error says why.
      }
      throw error
    }
  } finally {
    closeSync(fd)
  }
  return 'in-place'
}

function statOrUndefined(file: string): Stats | undefined {
  try {
    return statSync(file)
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
}
