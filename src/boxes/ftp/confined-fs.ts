import { lstat, readlink, realpath } from 'node:fs/promises'
import path from 'node:path'
import { FileSystem, type FtpConnection } from 'ftp-srv'

/** An FTP error: the client sees the code and this message, never a server path. */
function ftpError(message: string, code = 550): Error {
  return Object.assign(new Error(message), { code })
}

const DENIED = 'Permission denied: outside your folder'
/** Links followed in a chain before giving up, as the kernel does (ELOOP). */
const MAX_LINKS = 40

const MESSAGES: Record<string, string> = {
  ENOENT: 'No such file or directory',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EEXIST: 'File exists',
  ENOTEMPTY: 'Directory not empty',
  EACCES: 'Permission denied',
  EPERM: 'Permission denied',
}

/** Node's fs errors name the server's paths; the client gets the reason only. */
function clean(error: unknown): Error {
  const { code, message } = error as { code?: unknown; message?: string }
  if (typeof code === 'number') return error as Error
  return ftpError(MESSAGES[String(code)] ?? (code ? `Failed (${String(code)})` : (message ?? 'Failed')))
}

function isInside(root: string, candidate: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

/** Where the link at `link` points, made absolute; undefined when it is no link (any more). */
async function linkTarget(link: string): Promise<string | undefined> {
  try {
    if (!(await lstat(link)).isSymbolicLink()) return undefined
    return path.resolve(await realpath(path.dirname(link)), await readlink(link))
  } catch {
    return undefined
  }
}

/**
 * ftp-srv's file system, confined to a user's root folder. ftp-srv already resolves `..` and
 * absolute paths against the root; this also follows symlinks (realpath, on every operation) so
 * that no link, however made, leads a user out of the folder. A path that does not exist yet is
 * judged by its nearest existing parent, and a dangling link by where its target would be.
 */
export class ConfinedFileSystem extends FileSystem {
  /** `realRoot` must already be a real path (no symlinks in it). */
  constructor(
    connection: FtpConnection,
    private readonly realRoot: string,
  ) {
    super(connection, { root: realRoot, cwd: '/' })
  }

  /** The path as the client sees it: absolute, from its root. */
  private clientPath(clientPath: string): string {
    const unixPath = clientPath.replace(/\\/g, '/')
    return path.posix.isAbsolute(unixPath) ? path.posix.normalize(unixPath) : path.posix.join('/', this.cwd, unixPath)
  }

  /** The host path a client path names, after checking that it stays inside the root. */
  private async confine(clientPath = '.'): Promise<string> {
    const hostPath = path.join(this.realRoot, this.clientPath(clientPath))
    if (!isInside(this.realRoot, hostPath)) throw ftpError(DENIED)
    await this.checkResolved(hostPath, 0)
    return hostPath
  }

  /**
   * Throws unless `hostPath`, every link followed, leads inside the root. A path that does not
   * exist yet is judged by its nearest existing parent; a dangling link by where its target
   * would be (writing through it creates the target), so that links inside work whether or not
   * their target exists yet.
   */
  private async checkResolved(hostPath: string, linksFollowed: number): Promise<void> {
    let existing = hostPath
    for (;;) {
      try {
        await lstat(existing)
        break
      } catch (error) {
        if ((error as { code?: string }).code !== 'ENOENT' || existing === path.dirname(existing)) throw clean(error)
        existing = path.dirname(existing)
      }
    }
    let resolved: string
    try {
      resolved = await realpath(existing)
    } catch {
      // `existing` is a dangling link (its parents resolve, or lstat would have failed) or a loop
      const target = linksFollowed < MAX_LINKS ? await linkTarget(existing) : undefined
      if (target === undefined) throw ftpError(DENIED)
      return this.checkResolved(path.join(target, path.relative(existing, hostPath)), linksFollowed + 1)
    }
    if (!isInside(this.realRoot, resolved)) throw ftpError(DENIED)
  }

  private async guarded<T>(paths: (string | undefined)[], operation: () => T | Promise<T>): Promise<T> {
    for (const clientPath of paths) await this.confine(clientPath)
    try {
      return await operation()
    } catch (error) {
      throw clean(error)
    }
  }

  override get(fileName: string): Promise<unknown> {
    return this.guarded([fileName], () => super.get(fileName))
  }

  override async list(clientPath = '.'): Promise<unknown> {
    const entries = (await this.guarded([clientPath], () => super.list(clientPath))) as { name: string }[]
    // entries that are links out of the folder are not shown: their stat would describe the outside
    const visible = await Promise.all(
      entries.map((entry) =>
        this.confine(path.posix.join(clientPath, entry.name)).then(
          () => entry,
          () => undefined,
        ),
      ),
    )
    return visible.filter((entry) => entry !== undefined)
  }

  override chdir(clientPath = '.'): Promise<string> {
    return this.guarded([clientPath], () => super.chdir(clientPath))
  }

  override write(fileName: string, options?: { append?: boolean; start?: unknown }): Promise<unknown> {
    return this.guarded([fileName], () => super.write(fileName, options))
  }

  override read(fileName: string, options?: { start?: unknown }): Promise<unknown> {
    return this.guarded([fileName], () => super.read(fileName, options))
  }

  override delete(clientPath: string): Promise<unknown> {
    return this.guarded([clientPath], () => super.delete(clientPath))
  }

  override mkdir(clientPath: string): Promise<unknown> {
    return this.guarded([clientPath], () => super.mkdir(clientPath)).then(() => this.clientPath(clientPath))
  }

  override rename(from: string, to: string): Promise<unknown> {
    return this.guarded([from, to], () => super.rename(from, to))
  }

  override chmod(clientPath: string, mode: string): Promise<unknown> {
    return this.guarded([clientPath], () => super.chmod(clientPath, mode))
  }
}
