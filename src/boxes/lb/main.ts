/**
 * The lb box's server: spawned by the runtime with DEVENV_BOX_CONFIG pointing at the config the
 * driver wrote. Logs one line per notable event on stdout; exits 0 on SIGTERM/SIGINT.
 */
import path from 'node:path'
import { readLbConfig } from './config.js'
import { CONTROL_SIGNAL } from './control.js'
import { EventLog } from './log.js'
import { startBalancer, type RunningBalancer } from './server.js'

const log = new EventLog()
const configFile = process.env.DEVENV_BOX_CONFIG
if (!configFile) {
  process.stderr.write('lb: DEVENV_BOX_CONFIG is not set: this program is started by devenv with the config its lb driver writes\n')
  process.exit(2)
}
// First of all: without a handler, the signal would end the process.
let running: RunningBalancer | undefined
process.on(CONTROL_SIGNAL, () => running?.applyControl(path.dirname(configFile)))

try {
  const balancer = await startBalancer(readLbConfig(configFile), log)
  running = balancer
  let stopping = false
  const stop = (signal: string): void => {
    if (stopping) return
    stopping = true
    log.info(`${signal}: stopping`)
    // Requests in flight get a moment; a connection that will not close must not keep the service up.
    setTimeout(() => process.exit(0), 3000).unref()
    void balancer.close().then(() => process.exit(0))
  }
  process.on('SIGTERM', () => stop('SIGTERM'))
  process.on('SIGINT', () => stop('SIGINT'))
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code
  const message = code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL' ? `cannot listen: ${(error as Error).message}` : (error as Error).message
  process.stderr.write(`lb: ${message}\n`)
  process.exit(1)
}
