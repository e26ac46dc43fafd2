import { describe, expect, it } from 'vitest'
import { encode, MessageReader, type Request } from '../../../src/runtime/bundled/protocol.js'

describe('MessageReader', () => {
  it('splits a byte stream into messages whatever the chunking, multi-byte characters included', () => {
    const messages: Request[] = [
      { id: 1, op: 'ping' },
      { id: 2, op: 'shutdown' },
      { id: 3, op: 'stop', spec: { name: 'café ☕' } as never, services: ['www1'] },
    ]
    const bytes = Buffer.from(messages.map(encode).join(''))
    for (const size of [1, 2, 3, 7, bytes.length]) {
      const received: Request[] = []
      const reader = new MessageReader<Request>((message) => received.push(message))
      for (let offset = 0; offset < bytes.length; offset += size) reader.push(bytes.subarray(offset, offset + size))
      expect(received, `chunks of ${size}`).toEqual(messages)
    }
  })

  it('ignores blank lines and throws on a line that is not JSON (the supervisor then drops the connection)', () => {
    const received: unknown[] = []
    const reader = new MessageReader((message) => received.push(message))
    reader.push('\n\n{"id":1,"op":"ping"}\n')
    expect(received).toEqual([{ id: 1, op: 'ping' }])
    expect(() => reader.push('not json\n')).toThrow()
  })
})
