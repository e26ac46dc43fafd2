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
