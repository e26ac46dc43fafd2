import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs'
import type { ServiceLogLine } from '../runtime.js'
import { parseLogLine } from './logs.js'

/** The lines of a service's log (rotated files first), optionally since a time and only the last `tail`. */
export function readServiceLog(
  file: string,
  service: string,
  options: { since?: Date; tail?: number } = {},
): ServiceLogLine[] {
  const files = [`${file}.3`, `${file}.2`, `${file}.1`, file].filter((candidate) => existsSync(candidate))
  let lines: ServiceLogLine[] = []
  for (const candidate of files) {
    for (const raw of readFileSync(candidate, 'utf8').split('\n')) {
      const line = parseLogLine(raw)
      if (!line) continue
      if (options.since && new Date(line.time) < options.since) continue
      lines.push({ ...line, service })
    }
  }
  if (options.tail !== undefined) lines = lines.slice(-options.tail)
  return lines
}

/** Merges several services' lines in time order. */
export function mergeByTime(groups: ServiceLogLine[][]): ServiceLogLine[] {
  return groups.flat().sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0))
}

/** Follows a log file as it grows (and when it is rotated), calling `onLine` for each new line. */
export function followLog(
  file: string,
  service: string,
  onLine: (line: ServiceLogLine) => void,
  signal: AbortSignal,
  pollMs = 200,
): Promise<void> {
  let offset = existsSync(file) ? statSync(file).size : 0
  let partial = ''
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (!existsSync(file)) return
      const size = statSync(file).size
      if (size < offset) offset = 0 // rotated: the file starts again
      if (size === offset) return
      const fd = openSync(file, 'r')
      try {
        const buffer = Buffer.alloc(size - offset)
        readSync(fd, buffer, 0, buffer.length, offset)
        offset = size
        const text = partial + buffer.toString()
        const lines = text.split('\n')
        partial = lines.pop() ?? ''
        for (const raw of lines) {
          const line = parseLogLine(raw)
          if (line) onLine({ ...line, service })
        }
      } finally {
        closeSync(fd)
      }
    }, pollMs)
    signal.addEventListener(
      'abort',
      () => {
        clearInterval(timer)
        resolve()
      },
      { once: true },
    )
  })
}
