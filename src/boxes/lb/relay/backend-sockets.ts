import net from 'node:net'

/** The exchange a backend connection currently serves: it gets the connection's bytes and its end. */
export interface ConnectionUser {
  onBackendData(connection: BackendConnection, chunk: Buffer): void
  /** `error`: the socket's error code, undefined when the backend just closed. */
  onBackendClose(connection: BackendConnection, error: string | undefined): void
}

/**
 * One keep-alive TCP connection to a backend. Its listeners are set once for its whole life, so
 * a request costs no listener churn: whoever holds it (`user`) is told.
 */
export class BackendConnection {
  user: ConnectionUser | undefined
  /** It has carried a request before: a failure may be the backend closing an idle connection. */
  reused = false
  private error: string | undefined

  constructor(
    readonly socket: net.Socket,
    private readonly owner: BackendSockets,
  ) {
    socket.on('data', this.onData)
    socket.on('error', this.onError)
    socket.on('close', this.onClose)
  }

  /** Drops the connection without telling its user (who has given up on it). */
  destroy(): void {
    this.user = undefined
    this.socket.destroy()
  }

  private readonly onData = (chunk: Buffer): void => {
    // Bytes on an idle connection answer nothing we asked: it cannot be trusted with a request.
    if (this.user) this.user.onBackendData(this, chunk)
    else this.socket.destroy()
  }

  private readonly onError = (error: NodeJS.ErrnoException): void => {
    this.error = error.code ?? error.message
  }

  private readonly onClose = (): void => {
    this.owner.forget(this)
    const user = this.user
    this.user = undefined
    user?.onBackendClose(this, this.error)
  }
}

/** A backend's idle keep-alive connections, newest first out: a few hot sockets rather than many cold ones. */
export class BackendSockets {
  private readonly idle: BackendConnection[] = []

  constructor(
    private readonly address: string,
    private readonly port: number,
    private readonly maxIdle = 256,
  ) {}

  /** An idle connection, or a new one with `fresh` or when none is idle. Writes wait for the connect. */
  acquire(user: ConnectionUser, fresh: boolean): BackendConnection {
    if (!fresh) {
      let connection: BackendConnection | undefined
      while ((connection = this.idle.pop())) {
        if (connection.socket.destroyed || !connection.socket.writable) continue
        connection.user = user
        connection.reused = true
        return connection
      }
    }
    const connection = new BackendConnection(net.connect({ host: this.address, port: this.port, noDelay: true }), this)
    connection.user = user
    return connection
  }

  release(connection: BackendConnection): void {
    connection.user = undefined
    if (this.idle.length >= this.maxIdle || connection.socket.destroyed) return connection.destroy()
    // A connection paused for a slow client must read again, or a backend's close would go unseen.
    if (connection.socket.isPaused()) connection.socket.resume()
    this.idle.push(connection)
  }

  forget(connection: BackendConnection): void {
    const index = this.idle.lastIndexOf(connection)
    if (index >= 0) this.idle.splice(index, 1)
  }

  close(): void {
    for (const connection of this.idle.splice(0)) connection.destroy()
  }
}
