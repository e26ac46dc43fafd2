import { createHash } from 'node:crypto'
import { statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProjectPaths } from '../../state/index.js'
import { supervisorFile } from './standby.js'

/** Unix socket paths are limited to about 107 bytes; a long project path gets one in the tmp dir. */
const MAX_SOCKET_PATH = 100

export interface SupervisorInfo {
  pid: number
  pidStart?: string
  socket: string
  startedAt: string
  /** Which build of devenv runs it: a supervisor of another build is replaced, not talked to. */
  build?: string
  /**
   * It started without the NODE_EXTRA_CA_CERTS its user set (util/node-start-env.ts): it cannot
   * pull images through a TLS proxy that needs them, so a spec with images gets a new supervisor.
   */
  withoutExtraCaCerts?: boolean
}

const SUPERVISOR_MAIN = fileURLToPath(new URL('./supervisor-main.js', import.meta.url))

/** The file to run the supervisor from (standby.ts, which bin/devenv loads on its own). */
export const supervisorMain = supervisorFile

/** This build of the supervisor: its file's modification time (changes with every build or upgrade). */
export function supervisorBuild(): string {
  try {
    return String(statSync(SUPERVISOR_MAIN).mtimeMs)
  } catch {
    return 'unknown'
  }
}

export function supervisorFiles(root: string): { info: string; socket: string; log: string; lock: string } {
  const paths = new ProjectPaths(root)
  let socket = paths.supervisorSocket
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    socket = path.join(os.tmpdir(), `devenv-${createHash('sha256').update(root).digest('hex').slice(0, 16)}.sock`)
  }
  return {
    info: path.join(paths.dir, 'supervisor.json'),
    socket,
    log: path.join(paths.logs, 'supervisor.log'),
    lock: path.join(paths.dir, 'supervisor'),
  }
}
