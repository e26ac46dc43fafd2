import { readFtpConfig } from './config.js'
import { createFtpServer } from './server.js'

/** The ftp box's server process, at the service's own address. */
const log = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

const config = readFtpConfig(process.env.DEVENV_BOX_CONFIG)
const server = createFtpServer(config, log)
// ftp-srv installs signal handlers of its own that exit without a word; this process decides how it stops
for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.removeAllListeners(signal)

try {
  await server.listen()
} catch (error) {
  process.stderr.write(`ftp: cannot start: ${(error as Error).message}\n`)
  process.exit(1)
}
log(`ftp: listening on ${config.address}:${config.port}, passive ports ${config.pasvPorts[0]}-${config.pasvPorts[1]}, users: ${config.users.map((user) => user.name).join(', ') || 'none'}`)

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  log(`ftp: ${signal}, stopping`)
  server.close().then(
    () => process.exit(0),
    () => process.exit(0),
  )
  setTimeout(() => process.exit(0), 2000).unref()
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => stop(signal))
