import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { readServiceLog } from '../../../src/runtime/bundled/log-reader.js'
import { formatLogLine, LogWriter, parseLogLine } from '../../../src/runtime/bundled/logs.js'

describe('LogWriter', () => {
  const folders: string[] = []
  const logFile = (): string => {
    const folder = mkdtempSync(path.join(tmpdir(), 'devenv-logs-'))
    folders.push(folder)
    return path.join(folder, 'logs', 'svc.log')
  }
  afterEach(() => {
    for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true })
  })

  it('writes whole lines with a timestamp and stream; a partial line waits for its end; \\r\\n is one line end', () => {
    const file = logFile()
    const writer = new LogWriter(file)
    writer.chunk('out', 'hel')
    writer.chunk('err', 'oops\r\n')
    writer.chunk('out', 'lo\nwor')
    writer.line('devenv', 'started pid 1')
    writer.close()
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((raw) => parseLogLine(raw)!)
    expect(lines.map(({ stream, text }) => `${stream}:${text}`)).toEqual([
      'err:oops',
      'out:hello',
      'devenv:started pid 1',
      'out:wor',
    ])
    for (const line of lines) expect(Number.isNaN(Date.parse(line.time))).toBe(false)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it('writes a text with line breaks as one log line per line', () => {
    const file = logFile()
    const writer = new LogWriter(file)
    writer.line('devenv', 'first\nset -e\nroot=$1')
    writer.close()
    const raw = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(raw.map((line) => parseLogLine(line)?.text)).toEqual(['first', 'set -e', 'root=$1'])
  })

  it('never throws when a write fails; counts the lost lines and says so once it can write again', () => {
    const file = logFile()
    const writer = new LogWriter(file, 10 * 1024 * 1024, 3)
    writer.line('out', 'kept 1')
    // A descriptor that fails every write, as a full disk does (the tmpfs test in full-disk.test.ts shows ENOSPC itself).
    const internals = writer as unknown as { fd: number | undefined }
    const saved = internals.fd
    internals.fd = 999_999
    expect(() => {
      writer.line('out', 'lost 1')
      writer.chunk('out', 'lost 2\n')
    }).not.toThrow()
    expect(writer.droppedLines).toBe(2)
    internals.fd = saved
    writer.line('out', 'kept 2')
    writer.close()
    const texts = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => parseLogLine(line)?.text)
    expect(texts[0]).toBe('kept 1')
    expect(texts[1]).toMatch(/^2 log lines were lost: cannot write .*EBADF/)
    expect(texts[2]).toBe('kept 2')
  })

  it('keeps a multi-byte character split across two reads whole', () => {
    const file = logFile()
    const writer = new LogWriter(file)
    const bytes = Buffer.from('café ☕\n')
    writer.chunk('out', bytes.subarray(0, 4))
    writer.chunk('out', bytes.subarray(4, 9))
    writer.chunk('out', bytes.subarray(9))
    writer.close()
    expect(readServiceLog(file, 'svc').map((line) => line.text)).toEqual(['café ☕'])
  })

  it('rotates past its size into file.1, file.2 and drops the oldest beyond `keep`', () => {
    const file = logFile()
    const writer = new LogWriter(file, 400, 2)
    for (let index = 0; index < 40; index++) writer.line('out', `line ${String(index).padStart(2, '0')}`)
    writer.close()
    expect(existsSync(`${file}.1`)).toBe(true)
    expect(existsSync(`${file}.2`)).toBe(true)
    expect(existsSync(`${file}.3`)).toBe(false)
    for (const candidate of [file, `${file}.1`, `${file}.2`]) expect(statSync(candidate).size).toBeLessThanOrEqual(400)
    const kept = readServiceLog(file, 'svc').map((line) => line.text)
    // Oldest first across the rotated files, ending with the last line written, nothing repeated.
    expect(kept.at(-1)).toBe('line 39')
    expect(kept).toEqual([...kept].sort())
    expect(new Set(kept).size).toBe(kept.length)
    expect(kept).not.toContain('line 00')
    expect(readServiceLog(file, 'svc', { tail: 3 }).map((line) => line.text)).toEqual(['line 37', 'line 38', 'line 39'])
  })

  it('a huge line without a newline is written rather than buffered without bound', () => {
    const file = logFile()
    const writer = new LogWriter(file)
    writer.chunk('out', 'x'.repeat(70 * 1024))
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean)
    expect(lines).toHaveLength(1)
    expect(parseLogLine(lines[0]!)!.text).toHaveLength(70 * 1024)
    writer.close()
  })

  it('readServiceLog filters by time', () => {
    const file = logFile()
    const writer = new LogWriter(file)
    writer.close()
    const old = formatLogLine({ time: '2020-01-01T00:00:00.000Z', stream: 'out', text: 'old' })
    const recent = formatLogLine({ time: '2030-01-01T00:00:00.000Z', stream: 'out', text: 'recent' })
    appendFileSync(file, `${old}not a log line\n${recent}`)
    expect(readServiceLog(file, 'svc').map((line) => line.text)).toEqual(['old', 'recent'])
    expect(readServiceLog(file, 'svc', { since: new Date('2025-01-01') }).map((line) => line.text)).toEqual(['recent'])
  })
})
