import net from 'node:net'
import { DevenvError } from '../../errors.js'
import { fallbackPort, findPortHolder } from './ports.js'

/** `publish: ["81:8080"]`: a TCP forwarder from hostAddress:hostPort to the service's address:port. */
export class PortForwarder {
  private readonly server: net.Server
  private readonly sockets = new Set<net.Socket>()

  private constructor(server: net.Server) {
    this.server = server
  }

  /**
   * Listens on `from` (or, for a privileged port devenv may not bind, on its stable high twin: 81 →
   * 10081, said in `note`) and forwards every connection to `to`.
   */
  static async open(
    service: string,
    from: { address: string; port: number },
    to: { address: string; port: number },
  ): Promise<PortForwarder> {
    const forwarder = new PortForwarder(
      net.createServer({ noDelay: true }, (client) => {
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
      }),
    )
    try {
      forwarder.port = await forwarder.listen(from.address, from.port)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EACCES') {
        const port = await fallbackPort(from.address, from.port)
        forwarder.port = await forwarder.listen(from.address, port)
        forwarder.note = `port ${from.port} is privileged and devenv is not root: published on ${from.address}:${port} instead`
      } else if (code === 'EADDRINUSE') {
        const holder = findPortHolder(from.port)
        throw new DevenvError(
          'PORT_IN_USE',
          `service ${service}: cannot publish ${from.address}:${from.port}: the port is already in use${holder ? ` by pid ${holder.pid} (${holder.command})` : ''}`,
          {
            hint: 'Free the port, or publish on another one ("8081:8080").',
          },
        )
      } else throw error
    }
    return forwarder
  }

  /** The port it listens on (the one asked for, unless it had to move). */
  port = 0
  /** Why it listens elsewhere than asked. */
  note?: string

  private listen(address: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error)
      this.server.once('error', onError)
      this.server.listen({ host: address, port }, () => {
        this.server.off('error', onError)
        resolve((this.server.address() as net.AddressInfo).port)
      })
    })
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
