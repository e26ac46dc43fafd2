/**
 * The static box's process: serves the folder its config names until SIGTERM.
 * Started by the runtime with DEVENV_BOX_CONFIG pointing at the config that prepare() wrote.
 */
import type { Server } from 'node:http'
import { readStaticServerConfig, type StaticServerConfig } from './config.js'
import { createStaticServer } from './server.js'

const SHUTDOWN_GRACE_MS = 2000

function fail(message: string, exitCode: number): never {
  process.stderr.write(`devenv static: ${message}\n`)
  process.exit(exitCode)
}

function loadConfig(): StaticServerConfig {
  const configFile = process.env.DEVENV_BOX_CONFIG
  if (!configFile) fail('DEVENV_BOX_CONFIG is not set; this process is started by devenv', 2)
  try {
    return readStaticServerConfig(configFile)
  } catch (error) {
    fail((error as Error).message, 2)
  }
}

function serve(config: StaticServerConfig): Server {
  let server: Server
  try {
    server = createStaticServer(config, (line) => process.stdout.write(`${line}\n`))
  } catch (error) {
    fail(`cannot serve ${config.root}: ${(error as Error).message}`, 1)
  }
  server.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EADDRINUSE') fail(`port ${config.port} on ${config.address} is already in use`, 1)
    if (error.code === 'EADDRNOTAVAIL') fail(`address ${config.address} is not available on this machine`, 1)
    fail(`cannot listen on ${config.address}:${config.port}: ${error.message}`, 1)
  })
  server.listen(config.port, config.address, () => {
    const bound = server.address()
    const port = typeof bound === 'object' && bound ? bound.port : config.port
    process.stdout.write(`serving ${config.root} at http://${config.address}:${port}/${config.spa ? ' (spa)' : ''}\n`)
  })
  return server
}

function stopOnSignal(server: Server): void {
  const stop = () => {
    server.close(() => process.exit(0))
    server.closeIdleConnections()
    setTimeout(() => {
      server.closeAllConnections()
      process.exit(0)
    }, SHUTDOWN_GRACE_MS).unref()
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}

stopOnSignal(serve(loadConfig()))
