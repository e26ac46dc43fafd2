import { statfsSync } from 'node:fs'
import path from 'node:path'

/**
 * The one error type of devenv. Every failure a person can act on is a DevenvError:
 * a stable code (for scripts and --json), a message for people, an optional hint,
 * and where it happened (file:line:col) when it comes from an envfile.
 */
export type ErrorCode =
  | 'USAGE'
  | 'ENVFILE_NOT_FOUND'
  | 'ENVFILE_SYNTAX'
  | 'ENVFILE_SCHEMA'
  | 'ENVFILE_INVALID'
  | 'ENVFILE_VARIABLE'
  | 'TEMPLATE'
  | 'EXISTS'
  | 'NOT_FOUND'
  | 'PORT_IN_USE'
  | 'SUPERVISOR'
  | 'SERVICE_FAILED'
  | 'BUILD_FAILED'
  | 'HEALTH_TIMEOUT'
  | 'INTEGRITY'
  | 'HOSTS'
  | 'SNAPSHOT'
  | 'BOX'
  | 'ARCHIVE'
  | 'DATABASE'
  | 'TLS'
  | 'RUNTIME'
  | 'DISK_FULL'
  | 'EXPORT'
  | 'INTERNAL'

/** Codes that mean "you asked for something malformed": exit 2, as for usage errors. */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  'USAGE',
  'ENVFILE_NOT_FOUND',
  'ENVFILE_SYNTAX',
  'ENVFILE_SCHEMA',
  'ENVFILE_INVALID',
  'ENVFILE_VARIABLE',
  'TEMPLATE',
  'EXISTS',
])

export interface Location {
  file: string
  line?: number
  column?: number
  /** Dotted path of the field in the envfile, e.g. services.www1.ports[0] */
  path?: string
}

export interface DevenvErrorOptions {
  hint?: string
  location?: Location
  /** More problems of the same kind, reported together (schema errors, integrity mismatches). */
  details?: string[]
  cause?: unknown
  exitCode?: number
}

export class DevenvError extends Error {
  readonly code: ErrorCode
  readonly hint?: string
  readonly location?: Location
  readonly details: string[]
  readonly exitCode: number

  constructor(code: ErrorCode, message: string, options: DevenvErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'DevenvError'
    this.code = code
    this.hint = options.hint
    this.location = options.location
    this.details = options.details ?? []
    this.exitCode = options.exitCode ?? (USAGE_CODES.has(code) ? 2 : 1)
  }

  /** "devenv.yaml:12:5 services.www1.ports[0]" or undefined */
  get where(): string | undefined {
    if (!this.location) return undefined
    const { file, line, column, path } = this.location
    let where = file
    if (line !== undefined) where += `:${line}` + (column !== undefined ? `:${column}` : '')
    if (path) where += ` (${path})`
    return where
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(this.location ? { location: this.location } : {}),
      ...(this.details.length ? { details: this.details } : {}),
      exitCode: this.exitCode,
    }
  }
}

export function isDevenvError(error: unknown): error is DevenvError {
  return error instanceof DevenvError
}

export function usage(message: string, hint?: string): DevenvError {
  return new DevenvError('USAGE', message, { hint })
}

/**
 * A full disk (ENOSPC, or a quota: EDQUOT) as one clear message naming the folder, the room left
 * there and, when the caller knows it, the room needed; undefined for any other error. The file
 * system's own path (when the error has one) wins over `folder`, the caller's best guess.
 */
export function diskFullError(error: unknown, folder: string, neededBytes?: number): DevenvError | undefined {
  const errno = error as NodeJS.ErrnoException | undefined
  if (errno?.code !== 'ENOSPC' && errno?.code !== 'EDQUOT') return undefined
  const where = errno.path ? path.dirname(errno.path) : folder
  let room = ''
  try {
    const stats = statfsSync(where)
    room = ` (${formatBytes(stats.bavail * stats.bsize)} free of ${formatBytes(stats.blocks * stats.bsize)})`
  } catch {
    // the folder itself may be gone; the message still names it
  }
  const quota = errno.code === 'EDQUOT' ? 'your disk quota is used up' : 'no space left'
  const needed = neededBytes !== undefined ? `at least ${formatBytes(neededBytes)}` : 'some space'
  return new DevenvError('DISK_FULL', `${quota} on the disk holding ${where}${room}`, {
    hint: `Free ${needed} there (\`df -h ${where}\` shows what is left) and run the command again; what devenv had already saved is intact.`,
    cause: error,
  })
}

function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`
}
