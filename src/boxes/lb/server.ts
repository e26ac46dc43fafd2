import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import type { LbConfig } from './config.js'
import { HealthChecker } from './health.js'
import type { EventLog } from './log.js'
import { BackendPool } from './pool.js'
import { Proxy } from './proxy.js'

export interface RunningBalancer {
  /** Bound ports: http, and https when configured. */
  httpPort: number
  httpsPort?: number
  close(): Promise<void>
}

/** Starts the balancer of `config`: listeners on its address, health checks, proxy. */
export async function startBalancer(config: LbConfig, log: EventLog): Promise<RunningBalancer> {
  const pool = new BackendPool(config.backends, config.strategy, config.backendTimeoutMs)
  const health = new HealthChecker(pool.backends, { intervalMs: config.healthIntervalMs, fall: config.fall, rise: config.rise, log: (line) => log.info(line) })
  const proxy = new Proxy({ pool, health, log, stickyCookie: config.stickyCookie, backendTimeoutMs: config.backendTimeoutMs })

  const servers: http.Server[] = []
  const plain = http.createServer({ keepAliveTimeout: 30_000 }, proxy.handleRequest)
  servers.push(plain)
  if (config.https) {
    const secure = https.createServer(
      { cert: readFileSync(config.https.certificateFile), key: readFileSync(config.https.privateKeyFile), keepAliveTimeout: 30_000 },
      proxy.handleRequest,
    )
    // Handshakes that fail (a client that does not trust the CA, a port scan) are the client's business.
    secure.on('tlsClientError', (error: NodeJS.ErrnoException, socket) => {
      log.event(`TLS handshake from ${socket.remoteAddress ?? '?'} failed: ${error.code ?? error.message}`)
      socket.destroy()
    })
    servers.push(secure)
  }
  for (const server of servers) {
    server.on('upgrade', proxy.handleUpgrade)
    server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => answerClientError(error, socket))
  }

  const listen = (server: http.Server, port: number): Promise<number> =>
    new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: config.address, port }, () => {
        server.off('error', reject)
        resolve((server.address() as { port: number }).port)
      })
    })
  const httpPort = await listen(plain, config.httpPort)
  const httpsPort = config.https ? await listen(servers[1]!, config.https.port) : undefined
  health.start()
  log.info(
    `listening on http://${config.address}:${httpPort}${httpsPort !== undefined ? ` and https://${config.address}:${httpsPort}` : ''}, ` +
      `${config.strategy} over ${config.backends.map((backend) => `${backend.name} (${backend.address}:${backend.port})`).join(', ')}`,
  )

  return {
    httpPort,
    ...(httpsPort !== undefined ? { httpsPort } : {}),
    close: async () => {
      health.stop()
      proxy.closeTunnels()
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.close(() => resolve())
              server.closeIdleConnections()
              // Requests in flight get a moment to finish; then the connections go.
              setTimeout(() => server.closeAllConnections(), 1000).unref()
            }),
        ),
      )
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
  const status = error.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request'
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
  socket.destroySoon()
}
