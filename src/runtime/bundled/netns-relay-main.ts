/**
 * The relay of one image service's network, run by the supervisor in a network namespace of its
 * own (the service's gateway), joined to the service's namespace by a veth pair. It makes and
 * accepts TCP connections there and hands each socket to the supervisor over the IPC channel,
 * which pipes it to the other side in the host's namespace: sockets keep the namespace they were
 * made in, so no byte is copied here.
 *   parent → { type: 'listen', ports } : accept on these ports (the peers' addresses are on lo)
 *   parent → { type: 'connect', id, host, port } : connect into the service's namespace
 *   child  → 'accepted' + socket, 'connected' + socket, { type: 'failed', id, message }
 */
import net from 'node:net'

type Request = { type: 'listen'; ports: number[] } | { type: 'connect'; id: number; host: string; port: number }

const send = process.send?.bind(process)
if (!send) process.exit(2)

const servers: net.Server[] = []

process.on('message', (request: Request) => {
  if (request.type === 'listen') {
    for (const port of request.ports) {
      const server = net.createServer({ pauseOnConnect: true }, (socket) => {
        send({ type: 'accepted', localAddress: socket.localAddress, localPort: socket.localPort }, socket)
      })
      server.on('error', (error) => send({ type: 'failed', id: -1, message: `listen ${port}: ${error.message}` }))
      server.listen({ port, host: '0.0.0.0' })
      servers.push(server)
    }
    send({ type: 'listening' })
    return
  }
  const socket = net.connect({ host: request.host, port: request.port })
  socket.once('connect', () => {
    socket.pause()
    send({ type: 'connected', id: request.id }, socket)
  })
  socket.once('error', (error) => send({ type: 'failed', id: request.id, message: error.message }))
})

// The supervisor gone: nothing to relay for.
process.on('disconnect', () => process.exit(0))
