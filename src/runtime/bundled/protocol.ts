import { StringDecoder } from 'node:string_decoder'
import type { EnvSpec } from '../../envfile/index.js'
import type { ServiceEvent, UpOptions, UpResult } from '../runtime.js'
import type { ProjectState, ServiceState } from '../../state/index.js'

/**
 * The control protocol between the CLI and a project's supervisor: newline-delimited JSON
 * over a unix socket. A request carries an id; the supervisor answers with events (for
 * progress) and then exactly one reply with the same id.
 */
export type Request =
  | { id: number; op: 'up'; spec: EnvSpec; options: UpOptions }
  | { id: number; op: 'stop'; spec: EnvSpec; services: string[] }
  | { id: number; op: 'restart'; spec: EnvSpec; services: string[] }
  | { id: number; op: 'build'; spec: EnvSpec; services: string[] }
  | { id: number; op: 'shutdown' }
  | { id: number; op: 'ping' }
  | { id: number; op: 'state' }

export type Reply =
  | { id: number; type: 'event'; event: ServiceEvent }
  | { id: number; type: 'result'; result: UpResult | ServiceState[] | ProjectState | { pid: number } | null }
  | { id: number; type: 'error'; error: { code: string; message: string; hint?: string; details?: string[] } }

export function encode(message: Request | Reply): string {
  return `${JSON.stringify(message)}\n`
}

/** Splits a stream of bytes into JSON messages. */
export class MessageReader<T> {
  private buffer = ''
  // A chunk may end inside a multi-byte character; the decoder keeps its first bytes for the next one.
  private readonly decoder = new StringDecoder('utf8')

  constructor(private readonly onMessage: (message: T) => void) {}

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === 'string' ? chunk : this.decoder.write(chunk)
    let newline = this.buffer.indexOf('\n')
    while (newline >= 0) {
      const line = this.buffer.slice(0, newline)
      this.buffer = this.buffer.slice(newline + 1)
      if (line.trim()) this.onMessage(JSON.parse(line) as T)
      newline = this.buffer.indexOf('\n')
    }
  }
}
