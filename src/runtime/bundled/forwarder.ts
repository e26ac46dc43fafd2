import net from 'node:net'
import { DevenvError } from '../../errors.js'
import { findPortHolder } from './ports.js'

/** `publish: ["81:8080"]`: a TCP forwarder from hostAddress:hostPort to the service's address:port. */
export class PortForwarder {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()

  private constructor(server: net.Server) {
    this.server = server
  }

  static async open(service: string, from: { address: string; port: number }, to: { address: string; port: number }): Promise<PortForwarder> {
    const server = net.createServer({ noDelay: true }, (client) => {
      const upstream = net.connect({ host: to.address, port: to.port, noDelay: true })
      forwarder.track(client)
      forwarder.track(upstream)
      client.pipe(upstream)
      upstream.pipe(client)
      const close = (): void => {
        client.destroy()
        upstream.destroy()
      }
      client.once('error', close)
      upstream.once('error', close)
      client.once('close', close)
      upstream.once('close', close)
    })
    const forwarder = new PortForwarder(server)
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'EADDRINUSE') {
          const holder = findPortHolder(from.port)
          reject(new DevenvError('PORT_IN_USE', `service ${service}: cannot publish ${from.address}:${from.port}: the port is already in use${holder ? ` by pid ${holder.pid} (${holder.command})` : ''}`, {
            hint: 'Free the port, or publish on another one ("8081:8080").',
          }))
        } else if (error.code === 'EACCES') {
          reject(new DevenvError('PORT_IN_USE', `service ${service}: cannot publish ${from.address}:${from.port}: privileged port and devenv is not root`, {
            hint: `Publish a port above 1023, e.g. "${8000 + from.port}:${to.port}", or allow it: sudo sysctl net.ipv4.ip_unprivileged_port_start=0.`,
          }))
        } else reject(error)
      })
      server.listen({ host: from.address, port: from.port }, resolve)
    })
    return forwarder
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket)
    socket.once('close', () => this.sockets.delete(socket))
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
