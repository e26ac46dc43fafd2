import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { get, LB_ADDRESS, startBackend, startBalancer, stopAll, type Balancer } from './harness.js'

/** Sends raw bytes and collects everything the balancer sends back until it closes or goes quiet. */
function raw(port: number, bytes: Buffer | string, quietMs = 500): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: LB_ADDRESS, port })
    let received = ''
    let timer = setTimeout(() => socket.destroy(), quietMs)
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      clearTimeout(timer)
      timer = setTimeout(() => socket.destroy(), quietMs)
    })
    socket.on('error', () => undefined)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(received)
    })
    socket.write(bytes)
  })
}

function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = Buffer.from([1, 2, 3, 4])
  return Buffer.concat([
    Buffer.from([0x81, 0x80 | payload.length]),
    mask,
    Buffer.from(payload.map((byte, index) => byte ^ mask[index % 4]!)),
  ])
}

describe('lb: WebSocket and hostile input', () => {
  let balancer: Balancer

  beforeAll(async () => {
    const backends = await Promise.all([startBackend('www1'), startBackend('www2')])
    balancer = await startBalancer(backends)
  })
  afterAll(stopAll)

  it('passes a WebSocket upgrade through and echoes frames both ways', async () => {
    const socket = net.connect({ host: LB_ADDRESS, port: balancer.httpPort })
    await new Promise((resolve) => socket.once('connect', resolve))
    socket.write(
      'GET /chat HTTP/1.1\r\nHost: www.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    )
    let received = Buffer.alloc(0)
    const waitFor = (test: (data: Buffer) => boolean): Promise<void> =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (test(received)) {
            socket.off('data', onData)
            resolve()
          }
        }
        const onData = (chunk: Buffer): void => {
          received = Buffer.concat([received, chunk])
          check()
        }
        socket.on('data', onData)
        socket.once('close', () => reject(new Error(`closed; got ${received.toString('latin1')}`)))
        check()
      })
    await waitFor((data) => data.includes('\r\n\r\n'))
    const head = received.subarray(0, received.indexOf('\r\n\r\n') + 4).toString()
    expect(head).toMatch(/^HTTP\/1\.1 101 /)
    expect(head).toMatch(/Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/)
    const backend = head.match(/X-Devenv-Backend: (www[12])/)?.[1]
    expect(backend).toBeDefined()
    received = received.subarray(head.length)
    socket.write(maskedTextFrame('ping'))
    await waitFor((data) => data.length >= 2 && data.length >= 2 + data[1]!)
    expect(received[0]).toBe(0x81)
    expect(received.subarray(2, 2 + received[1]!).toString()).toBe(`${backend}: ping`)
    socket.destroy()
  })

  it('answers malformed requests with 400 and keeps serving', async () => {
    const hostile: Array<Buffer | string> = [
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x13, 0x37]),
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n',
      `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n${'X-Big: '.concat('b'.repeat(20_000))}\r\n\r\n`,
      'GET / HTTP/9.9\r\n\r\n',
      'GET /\x00 HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x00\x01\x02',
      'GET / HTTP/1.1\r\nHost: x\r\nCookie: =;;==%%;\r\n\r\n',
    ]
    for (const bytes of hostile) {
      const answer = await raw(balancer.httpPort, bytes)
      if (answer) expect(answer).toMatch(/^HTTP\/1\.1 (4\d\d|101|200)/)
    }
    expect((await raw(balancer.httpPort, hostile[1]!)).startsWith('HTTP/1.1 400')).toBe(true)
    // A client that goes away halfway through sending a body.
    const half = net.connect({ host: LB_ADDRESS, port: balancer.httpPort })
    half.on('error', () => undefined)
    half.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc')
    await new Promise((resolve) => setTimeout(resolve, 50))
    half.destroy()
    const fine = await get(balancer.httpPort)
    expect(fine.status).toBe(200)
    expect(balancer.child.exitCode).toBeNull()
  })

  it('stops cleanly on SIGTERM', async () => {
    await balancer.stop()
    expect(balancer.child.exitCode).toBe(0)
    expect(balancer.output()).toMatch(/SIGTERM: stopping/)
    expect(balancer.output()).not.toMatch(/Error|at .*\.js:\d+/)
  })
})
