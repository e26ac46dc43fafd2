import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ftpProbe } from '../../src/boxes/ftp/probe.js'

/** A server on 127.0.0.1 that talks to each connection as `talk` says; the probe speaks to it. */
async function serve(
  talk: (socket: net.Socket) => void,
): Promise<{ port: number; server: net.Server; received: string[] }> {
  const received: string[] = []
  const server = net.createServer((socket) => {
    sockets.add(socket)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => received.push(chunk))
    socket.on('error', () => undefined)
    talk(socket)
  })
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve))
  servers.push(server)
  return { port: (server.address() as net.AddressInfo).port, server, received }
}

const servers: net.Server[] = []
const sockets = new Set<net.Socket>()
afterEach(async () => {
  for (const socket of sockets) socket.destroy()
  sockets.clear()
  for (const server of servers.splice(0)) {
    await new Promise((resolve) => server.close(resolve))
  }
})

describe('ftpProbe, the ftp box health check', () => {
  it('passes when the server greets with 220 and answers QUIT with 221, having sent QUIT', async () => {
    const { port, received } = await serve((socket) => {
      socket.write('220-devenv ftp\r\n220 ready\r\n')
      socket.on('data', (chunk) => {
        if (String(chunk).startsWith('QUIT')) socket.end('221 Bye\r\n')
      })
    })
    expect(await ftpProbe('127.0.0.1', port, 2000)).toEqual({ ok: true })
    expect(received.join('')).toBe('QUIT\r\n')
  })

  it('fails on another greeting, naming it', async () => {
    const { port } = await serve((socket) => socket.end('421 Too many users\r\n'))
    const result = await ftpProbe('127.0.0.1', port, 2000)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('421 Too many users') })
  })

  it('fails when the server accepts but never greets, within its timeout', async () => {
    const { port } = await serve(() => undefined)
    const started = Date.now()
    const result = await ftpProbe('127.0.0.1', port, 300)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('no greeting within 300 ms') })
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('fails when nothing listens', async () => {
    const { port, server } = await serve(() => undefined)
    await new Promise((resolve) => server.close(resolve))
    const result = await ftpProbe('127.0.0.1', port, 2000)
    expect(result).toEqual({ ok: false, reason: expect.stringContaining('ECONNREFUSED') })
  })
})
