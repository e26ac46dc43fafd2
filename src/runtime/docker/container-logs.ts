import { PassThrough } from 'node:stream'
import type Docker from 'dockerode'
import type { LogQuery, LogStream, ServiceLogLine } from '../runtime.js'

/** Splits the engine's log stream (stdout and stderr multiplexed, each line timestamped) into lines. */
function lineReader(service: string, stream: LogStream, onLine: (line: ServiceLogLine) => void): PassThrough {
  const through = new PassThrough()
  let rest = ''
  through.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString('utf8')).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      const space = line.indexOf(' ')
      const time = line.slice(0, space)
      const at = Date.parse(time)
      if (Number.isNaN(at)) continue
      onLine({ service, time: new Date(at).toISOString(), stream, text: line.slice(space + 1).replace(/\r$/, '') })
    }
  })
  return through
}

function demux(
  docker: Docker,
  source: NodeJS.ReadableStream,
  service: string,
  onLine: (line: ServiceLogLine) => void,
): void {
  docker.modem.demuxStream(source, lineReader(service, 'out', onLine), lineReader(service, 'err', onLine))
}

/** A container's log lines so far. */
export async function containerLogs(
  docker: Docker,
  container: string,
  service: string,
  query: LogQuery = {},
): Promise<ServiceLogLine[]> {
  const buffer = (await docker.getContainer(container).logs({
    stdout: true,
    stderr: true,
    timestamps: true,
    follow: false,
    ...(query.tail !== undefined ? { tail: query.tail } : {}),
    ...(query.since ? { since: Math.floor(query.since.getTime() / 1000) } : {}),
  })) as unknown as Buffer
  const lines: ServiceLogLine[] = []
  const out = lineReader(service, 'out', (line) => lines.push(line))
  const err = lineReader(service, 'err', (line) => lines.push(line))
  // Without a terminal the engine frames each chunk: 1 byte stream, 3 zero, 4 bytes length.
  for (let offset = 0; offset + 8 <= buffer.length;) {
    const size = buffer.readUInt32BE(offset + 4)
    const payload = buffer.subarray(offset + 8, offset + 8 + size)
    ;(buffer[offset] === 2 ? err : out).write(payload)
    offset += 8 + size
  }
  out.end()
  err.end()
  await new Promise((resolve) => setImmediate(resolve))
  const since = query.since?.getTime()
  return lines
    .filter((line) => since === undefined || Date.parse(line.time) >= since)
    .sort((a, b) => a.time.localeCompare(b.time))
}

/**
 * Follows a container's log until `signal` aborts, across its restarts and recreations: the
 * engine ends a follow when the container stops, so it is taken up again once it runs.
 */
export async function followContainer(
  docker: Docker,
  container: string,
  service: string,
  onLine: (line: ServiceLogLine) => void,
  signal: AbortSignal,
): Promise<void> {
  let since = Math.floor(Date.now() / 1000)
  let lastSeen = ''
  const seen = new Set<string>()
  while (!signal.aborted) {
    try {
      const stream = (await docker
        .getContainer(container)
        .logs({ stdout: true, stderr: true, timestamps: true, follow: true, since })) as NodeJS.ReadableStream
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          ;(stream as unknown as { destroy?: () => void }).destroy?.()
          resolve()
        }
        signal.addEventListener('abort', stop, { once: true })
        demux(docker, stream, service, (line) => {
          // A new follow starts at a whole second: lines already delivered come again.
          const key = `${line.time} ${line.stream} ${line.text}`
          if (line.time < lastSeen || seen.has(key)) return
          lastSeen = line.time
          seen.add(key)
          onLine(line)
        })
        stream.once('end', () => {
          signal.removeEventListener('abort', stop)
          resolve()
        })
        stream.once('error', () => resolve())
      })
    } catch {
      // not created yet, or being recreated
    }
    if (signal.aborted) return
    since = Math.max(since, Math.floor(Date.parse(lastSeen || new Date().toISOString()) / 1000))
    if (seen.size > 10_000) seen.clear()
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
