import { closeSync, existsSync, fstatSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import path from 'node:path'
import { StringDecoder } from 'node:string_decoder'
import type { LogStream, ServiceLogLine } from '../runtime.js'

/** A line of a service's log file. */
export type LogLine = Omit<ServiceLogLine, 'service'>

const DEFAULT_MAX_BYTES = 10 * 1024 * 1024
const DEFAULT_KEEP = 3

/** "2026-11-23T18:40:00.123Z out hello" */
export function formatLogLine(line: LogLine): string {
  return `${line.time} ${line.stream} ${line.text}\n`
}

export function parseLogLine(raw: string): LogLine | undefined {
  const match = /^(\S+) (out|err|devenv) (.*)$/.exec(raw)
  if (!match) return undefined
  return { time: match[1]!, stream: match[2] as LogStream, text: match[3]! }
}

/**
 * Appends timestamped lines to a service's log file, rotating it past a size (file.1, file.2, ...).
 * It never throws on a write: a full disk must not take the supervisor down. Lines that could not
 * be written are counted, and the first line written once there is room again says how many.
 */
export class LogWriter {
  private fd: number | undefined
  private size = 0
  private readonly partial: Record<'out' | 'err', string> = { out: '', err: '' }
  // A pipe read may end inside a multi-byte character; each stream's decoder keeps those bytes.
  private readonly decoders = { out: new StringDecoder('utf8'), err: new StringDecoder('utf8') }
  private dropped = 0
  private dropReason = ''
  /** A write stopped part-way: the next one starts on a line of its own. */
  private cut = false

  constructor(
    readonly file: string,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
    private readonly keep = DEFAULT_KEEP,
    /** Every line as it is logged, written or not (the service's excerpt of its current run). */
    private readonly onLine: (stream: LogStream, text: string) => void = () => {},
  ) {
    mkdirSync(path.dirname(file), { recursive: true })
    this.open()
  }

  /** Lines lost to failed writes since the last one that went through. */
  get droppedLines(): number {
    return this.dropped
  }

  /** A chunk of a child's output: whole lines are written, a trailing partial line waits for the rest. */
  chunk(stream: 'out' | 'err', data: Buffer | string): void {
    const text = this.partial[stream] + (typeof data === 'string' ? data : this.decoders[stream].write(data))
    const lines = text.split('\n')
    this.partial[stream] = lines.pop() ?? ''
    if (this.partial[stream].length > 64 * 1024) {
      lines.push(this.partial[stream])
      this.partial[stream] = ''
    }
    for (const line of lines) this.line(stream, line.replace(/\r$/, ''))
  }

  /** One line per line of `text`: a line break inside would make a line the log cannot parse. */
  line(stream: LogStream, text: string): void {
    for (const line of text.split('\n')) {
      this.onLine(stream, line)
      this.write(formatLogLine({ time: new Date().toISOString(), stream, text: line }))
    }
  }

  flush(): void {
    for (const stream of ['out', 'err'] as const) {
      if (this.partial[stream]) this.line(stream, this.partial[stream])
      this.partial[stream] = ''
    }
  }

  close(): void {
    this.flush()
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
  }

  private write(formatted: string): void {
    if (this.dropped > 0) {
      const note = formatLogLine({
        time: new Date().toISOString(),
        stream: 'devenv',
        text: `${this.dropped} log line${this.dropped === 1 ? ' was' : 's were'} lost: ${this.dropReason}`,
      })
      if (!this.append(note)) return this.drop()
      this.dropped = 0
    }
    if (!this.append(formatted)) this.drop()
  }

  private drop(): void {
    this.dropped++
  }

  /** Whether the whole line was written. */
  private append(formatted: string): boolean {
    try {
      const bytes = Buffer.from(this.cut ? `\n${formatted}` : formatted)
      if (this.size + bytes.length > this.maxBytes) this.rotate()
      if (this.fd === undefined) this.open()
      if (this.fd === undefined) return false
      const written = writeSync(this.fd, bytes)
      this.size += written
      this.cut = written < bytes.length
      // A write cut short is the disk filling up, as an ENOSPC is: one reason, said one way.
      if (this.cut) this.dropReason = `no space left on the file system holding ${path.dirname(this.file)}`
      return !this.cut
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      this.dropReason =
        code === 'ENOSPC' || code === 'EDQUOT'
          ? `no space left on the file system holding ${path.dirname(this.file)}`
          : `cannot write ${this.file}: ${code ?? (error as Error).message}`
      return false
    }
  }

  private open(): void {
    try {
      this.fd = openSync(this.file, 'a', 0o600)
      this.size = fstatSync(this.fd).size
    } catch (error) {
      this.fd = undefined
      this.dropReason = `cannot open ${this.file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`
    }
  }

  private rotate(): void {
    if (this.fd !== undefined) closeSync(this.fd)
    this.fd = undefined
    rmSync(`${this.file}.${this.keep}`, { force: true })
    for (let index = this.keep - 1; index >= 1; index--) {
      if (existsSync(`${this.file}.${index}`)) renameSync(`${this.file}.${index}`, `${this.file}.${index + 1}`)
    }
    renameSync(this.file, `${this.file}.1`)
    this.open()
    this.size = 0
    this.cut = false
  }
}
