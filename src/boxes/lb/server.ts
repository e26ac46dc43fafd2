import { readFileSync } from 'node:fs'
import http from 'node:http'
import net, { type Socket } from 'node:net'
import tls from 'node:tls'
import { NO_CLIENT_CERTIFICATE_AUTHORITIES } from '../../util/tls-server.js'
import type { LbConfig } from './config.js'
import { HealthChecker } from './health.js'
import type { EventLog } from './log.js'
import { applyControl } from './control.js'
import { BackendPool } from './pool.js'
import { followReplicas } from './replicas.js'
import { Proxy } from './proxy.js'
import { ClientConnection, type RelayContext } from './relay/client-connection.js'
import { ExchangeTimeouts } from './relay/timeouts.js'

export interface RunningBalancer {
  /** Bound ports: http, and https when configured. */
  httpPort: number
  httpsPort?: number
  /** The supervisor wrote which backends are going down or ready (see control.ts). */
  applyControl(runDir: string): void
  close(): Promise<void>
}

const KEEP_ALIVE_TIMEOUT_MS = 30_000

/**
 * Starts the balancer of `config`: listeners on its address, health checks, proxy.
 *
 * Connections start on the fast relay (relay/), which handles plain HTTP/1.1 requests without a
 * body itself. The first request it does not (a body, an upgrade, anything unusual or malformed)
 * hands the connection to node's HTTP server (proxy.ts), which then serves it to the end.
 */
export async function startBalancer(config: LbConfig, log: EventLog): Promise<RunningBalancer> {
  const pool = new BackendPool(config.backends, config.strategy, config.backendTimeoutMs)
  const health = new HealthChecker(pool.backends, { intervalMs: config.healthIntervalMs, fall: config.fall, rise: config.rise, log: (line) => log.info(line) })
  const proxy = new Proxy({ pool, health, log, stickyCookie: config.stickyCookie, backendTimeoutMs: config.backendTimeoutMs, hostnames: config.hostnames ?? [] })
  const timeouts = new ExchangeTimeouts(config.backendTimeoutMs)
  const stopFollowing = followReplicas(config.backends, pool, health, (line) => log.info(line))

  // Never listens: it serves the connections the relay hands over, plain or TLS alike.
  const fallback = http.createServer({ keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS }, proxy.handleRequest)
  fallback.on('upgrade', proxy.handleUpgrade)
  fallback.on('connect', proxy.handleConnect)
  fallback.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket))
  const relay: RelayContext = {
    pool,
    health,
    log,
    stickyCookie: config.stickyCookie,
    timeouts,
    connections: new Set(),
    handOver: (socket) => fallback.emit('connection', socket),
  }
  const accept = (socket: Socket): void => void new ClientConnection(socket, relay, KEEP_ALIVE_TIMEOUT_MS)

  // allowHalfOpen: a client that ends its side after a request still gets the answer.
  const servers: net.Server[] = [net.createServer({ allowHalfOpen: true }, accept)]
  if (config.https) {
    const secure = tls.createServer(
      {
        cert: readFileSync(config.https.certificateFile),
        key: readFileSync(config.https.privateKeyFile),
        ca: NO_CLIENT_CERTIFICATE_AUTHORITIES,
        allowHalfOpen: true,
        ALPNProtocols: ['http/1.1'],
      },
      accept,
    )
    // Handshakes that fail (a client that does not trust the CA, a port scan) are the client's business.
    secure.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
      log.event(`TLS handshake from ${socket.remoteAddress ?? '?'} failed: ${error.code ?? error.message}`)
      socket.destroy()
    })
    servers.push(secure)
  }

  const listen = (server: net.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: config.address, port }, () => {
        server.off('error', reject)
        resolve((server.address() as net.AddressInfo).port)
      })
    })
  const httpPort = await listen(servers[0]!, config.httpPort)
  const httpsPort = config.https ? await listen(servers[1]!, config.https.port) : undefined
  health.start()
  log.info(
    `listening on http://${config.address}:${httpPort}${httpsPort !== undefined ? ` and https://${config.address}:${httpsPort}` : ''}, ` +
      `${config.strategy} over ${config.backends.map((backend) => `${backend.name} (${backend.address}:${backend.port})`).join(', ')}`,
  )

  return {
    httpPort,
    ...(httpsPort !== undefined ? { httpsPort } : {}),
    applyControl: (runDir) => applyControl(runDir, pool, health),
    close: async () => {
      health.stop()
      proxy.closeTunnels()
      const closed = Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))))
      for (const connection of relay.connections) connection.closeWhenIdle()
      fallback.closeIdleConnections()
      // Requests in flight get a moment to finish; then the connections go.
      const deadline = setTimeout(() => {
        for (const connection of relay.connections) connection.destroy()
        fallback.closeAllConnections()
      }, 1000)
      deadline.unref()
      await closed
      clearTimeout(deadline)
      timeouts.stop()
      stopFollowing()
      pool.close()
    },
  }
}

/** Malformed requests: answer 400 (431 for oversized headers) where the socket still can, then drop it. */
function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy()
    return
  }
  if (error.code === 'HPE_CLOSED_CONNECTION') {
    // Bytes after a request that closes the connection (pipelined HTTP/1.0 without keep-alive):
    // they are ignored, as nginx and HAProxy do, and the answer in flight ends the connection.
    socket.pause()
    return
  }
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroySoon()
}
