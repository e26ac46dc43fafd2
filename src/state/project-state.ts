import { readJson, writeJsonAtomic } from './atomic.js'
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
  services: Record<string, ServiceState>
  updatedAt: string
  /** What the runtime could not vouch for while answering (an unreadable state file). Never written. */
  warnings?: string[]
}

export function readProjectState(root: string): ProjectState | undefined {
  return readJson<ProjectState>(new ProjectPaths(root).state)
}

export function writeProjectState(state: ProjectState): void {
  writeJsonAtomic(new ProjectPaths(state.root).state, { ...state, updatedAt: new Date().toISOString() })
}
