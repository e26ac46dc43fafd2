import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { DevenvError } from '../../errors.js'
import { asUnprivileged, type UnprivilegedUser } from '../driver.js'
import { serverBinaries } from './binaries.js'
import { connect, type ServerTarget } from './connection.js'

/** A server on a cluster that is not live yet, reachable only through a unix socket in `socketDir`. */
export interface ScratchServer {
  target: ServerTarget
  stop(): Promise<void>
}

/**
 * Starts the cluster at `pgdata` with no TCP listener at all, so nothing but devenv reaches it while
 * it is being seeded (its hba trusts the socket, whose folder only the service user can enter).
 */
export async function startScratchServer(pgdata: string, socketDir: string, port: number, runAs: UnprivilegedUser | undefined, cwd: string): Promise<ScratchServer> {
  const program = asUnprivileged(runAs, serverBinaries().postgres, ['-D', pgdata, '-c', 'listen_addresses=', '-c', `unix_socket_directories=${socketDir}`, '-c', `port=${port}`])
  const child = spawn(program.command, program.args, { uid: runAs?.uid, gid: runAs?.gid, cwd, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'ignore', 'pipe'] })
  let output = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => {
    output = (output + chunk).slice(-4000)
  })
  let exited = false
  const exit = once(child, 'exit').then(() => {
    exited = true
  })
  const target: ServerTarget = { host: socketDir, port, superuserPassword: '' }
  const stop = async (): Promise<void> => {
    if (!exited) child.kill('SIGINT') // fast shutdown: a checkpoint, then a clean cluster to copy
    await exit
  }
  const deadline = Date.now() + 60_000
  while (true) {
    if (exited) throw new DevenvError('BOX', `postgres could not start on ${pgdata} to seed it: ${output.trim() || 'it exited at once'}`)
    try {
      const client = await connect(target, 'postgres', 2000)
      await client.end()
      return { target, stop }
    } catch (error) {
      if (Date.now() > deadline) {
        await stop()
        throw new DevenvError('HEALTH_TIMEOUT', `postgres did not start on ${pgdata} within 60 s: ${(error as Error).message}`)
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
