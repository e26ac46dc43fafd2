import { chmodSync, mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { readJson, writeFileAtomicAsync, writeJsonAtomic } from './atomic.js'
import { ProjectPaths } from './paths.js'

/**
 * The project's live state, written by the supervisor (atomically, on every change) so that
 * any CLI command can answer even while services restart or the supervisor is gone.
 * `devenv status --json` is built from it.
 */
export type ServiceRunState = 'running' | 'starting' | 'stopped' | 'exited' | 'failed'
export type ServiceHealth = 'healthy' | 'unhealthy' | 'starting' | 'none'

export interface PortState {
  /** The port the envfile declares. */
  port: number
  /** The port actually bound (differs only on fallback). */
  bound: number
  address: string
  /** Host port forwarded to it, when published. */
  published?: { address: string; port: number }
}

export interface ServiceState {
  name: string
  box: string
  kind: string
  state: ServiceRunState
  health: ServiceHealth
  address: string
  hostnames: string[]
  ports: PortState[]
  pid?: number
  /** Kernel start time of pid, so a recycled pid is never taken for the service. */
  pidStart?: string
  restarts: number
  startedAt?: string
  exitCode?: number | null
  /** Why it is failed or unhealthy, in a line. */
  message?: string
  /** How mounts reach the service: real bind mounts, or targets resolved to host paths. */
  mounts?: 'bind' | 'resolved'
  /** Notes worth showing (port fallbacks, a failed watch action). */
  notes?: string[]
}

export interface ProjectState {
  project: string
  root: string
  envfile: string
  supervisor?: { pid: number; startedAt: string }
  /** Where the services run when not under a supervisor of devenv's own: "docker engine 20.10.24 at unix:///var/run/docker.sock". */
  engine?: string
  services: Record<string, ServiceState>
  updatedAt: string
  /** What the runtime could not vouch for while answering (an unreadable state file). Never written. */
  warnings?: string[]
}

const foreignWarned = new Set<string>()

/**
 * The project's state, or undefined when there is none, or when the file belongs to another
 * folder (copied along with a template or a project): acting on it would stop, or write into,
 * another project's services.
 */
export function readProjectState(root: string): ProjectState | undefined {
  const file = new ProjectPaths(root).state
  const state = readJson<ProjectState>(file)
  if (state === undefined || typeof state.root !== 'string' || path.resolve(state.root) === path.resolve(root))
    return state
  if (!foreignWarned.has(file)) {
    foreignWarned.add(file)
    process.stderr.write(
      `warning ${file} belongs to another project folder (${state.root}); it was copied here and is ignored. Delete ${path.dirname(file)} if it was copied with the project.\n`,
    )
  }
  return undefined
}

export function writeProjectState(state: ProjectState): void {
  const paths = new ProjectPaths(state.root)
  makePrivate(paths.dir)
  writeJsonAtomic(paths.state, { ...state, updatedAt: new Date().toISOString() })
}

/** writeProjectState off the main thread (writeFileAtomicAsync), for a folder writeProjectState has made private already. */
export function writeProjectStateAsync(state: ProjectState, stillWanted: () => boolean): Promise<boolean> {
  const paths = new ProjectPaths(state.root)
  return writeFileAtomicAsync(
    paths.state,
    `${JSON.stringify({ ...state, updatedAt: new Date().toISOString() }, null, 2)}\n`,
    stillWanted,
  )
}

/**
 * .devenv holds the envfile's passwords (spec.json), databases and logs: the owner's only.
 * As root, services that refuse root (PostgreSQL) run as another user who must still reach
 * their own folder inside: there others may pass through (0711), never list or read.
 */
export function makePrivate(folder: string): void {
  const mode = process.getuid?.() === 0 ? 0o711 : 0o700
  mkdirSync(folder, { recursive: true, mode })
  try {
    if ((statSync(folder).mode & 0o777) !== mode) chmodSync(folder, mode)
  } catch {
    // not ours to change (another user's folder): its own permissions stand
  }
}
