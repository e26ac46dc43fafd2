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

/** Appends timestamped lines to a service's log file, rotating it past a size (file.1, file.2, ...). */
export class LogWriter {
  private fd: number
  private size: number
  private readonly partial: Record<'out' | 'err', string> = { out: '', err: '' }
  // A pipe read may end inside a multi-byte character; each stream's decoder keeps those bytes.
  private readonly decoders = { out: new StringDecoder('utf8'), err: new StringDecoder('utf8') }

  constructor(
    readonly file: string,
    private readonly maxBytes = DEFAULT_MAX_BYTES,
    private readonly keep = DEFAULT_KEEP,
  ) {
    mkdirSync(path.dirname(file), { recursive: true })
    this.fd = openSync(file, 'a', 0o600)
    this.size = fstatSync(this.fd).size
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

  line(stream: LogStream, text: string): void {
    const formatted = Buffer.from(formatLogLine({ time: new Date().toISOString(), stream, text }))
    if (this.size + formatted.length > this.maxBytes) this.rotate()
    writeSync(this.fd, formatted)
    this.size += formatted.length
  }

  flush(): void {
    for (const stream of ['out', 'err'] as const) {
      if (this.partial[stream]) this.line(stream, this.partial[stream])
      this.partial[stream] = ''
    }
  }

  close(): void {
    this.flush()
    closeSync(this.fd)
  }

  private rotate(): void {
    closeSync(this.fd)
    rmSync(`${this.file}.${this.keep}`, { force: true })
    for (let index = this.keep - 1; index >= 1; index--) {
      if (existsSync(`${this.file}.${index}`)) renameSync(`${this.file}.${index}`, `${this.file}.${index + 1}`)
    }
    renameSync(this.file, `${this.file}.1`)
    this.fd = openSync(this.file, 'a', 0o600)
    this.size = 0
  }
}
