import { diskFullError, type DevenvError } from '../../errors.js'
import type { LogStream } from '../runtime.js'

/** A line that says what went wrong, as most programs begin it (Node's `Error: …`, `fatal: …`, a panic). */
const ERROR_LINE = /^\s*(Uncaught |\[?)?(\w*(Error|Exception)\b|error|fatal|panic|traceback)/i
/** A line that merely mentions an error (for programs that put a prefix first): the fallback. */
const MENTIONS_ERROR = /\b(\w*Error|error|fatal|panic|exception)\b/i
const KEPT_LINES = 400

/**
 * What one attempt to run a service wrote (its output and devenv's notes about it), from the
 * moment it was started: a failure report shows this run, not an older one's tail, and leads
 * with the run's first error line even when a long stack trace follows it.
 */
export class RunExcerpt {
  private lines: Array<{ stream: LogStream; text: string }> = []
  private errorLine?: string
  private mention?: string

  /** A new attempt begins: what the previous one wrote is no longer this run's. */
  reset(): void {
    this.lines = []
    this.errorLine = undefined
    this.mention = undefined
  }

  add(stream: LogStream, text: string): void {
    if (stream !== 'devenv' && this.errorLine === undefined) {
      if (ERROR_LINE.test(text)) this.errorLine = text.trim()
      else if (this.mention === undefined && MENTIONS_ERROR.test(text)) this.mention = text.trim()
    }
    this.lines.push({ stream, text })
    if (this.lines.length > KEPT_LINES) this.lines.shift()
  }

  /** The first line of the service's own output that reads as an error; else its first line on stderr. */
  firstError(): string | undefined {
    return (
      this.errorLine ??
      this.mention ??
      this.lines.find((line) => line.stream === 'err' && line.text.trim())?.text.trim()
    )
  }

  /** The first line of the service's own output in this run that matches `pattern`. */
  find(pattern: RegExp): string | undefined {
    return this.lines.find((line) => line.stream !== 'devenv' && pattern.test(line.text))?.text.trim()
  }

  /** The last `count` lines, the first error line in front when it would be cut off. */
  tail(count: number): string[] {
    const tail = this.lines.slice(-count).map((line) => line.text)
    const error = this.firstError()
    if (error && !tail.some((line) => line.trim() === error)) return [error, '…', ...tail.slice(2 - count)]
    return tail
  }
}

const DISK_FULL = /no space left on device|ENOSPC/i

/**
 * A run that died of a full disk: any line of it says "No space left on device" (its first error
 * line may be another process's, such as a client turned away while the server recovered).
 * The error names `folder` and the room left; `line` is the run's own words for it.
 */
export function diskFullCause(run: RunExcerpt, folder: string): { error: DevenvError; line: string } | undefined {
  const line = run.find(DISK_FULL)
  const error = line ? diskFullError({ code: 'ENOSPC' }, folder) : undefined
  return error && line ? { error, line } : undefined
}
