import type { EnvSpec } from '../envfile/model.js'
import type { ProjectState, ServiceState } from '../state/project-state.js'

/** What happens to one service while `up` brings it up, for progress display. */
export type ServicePhase = 'waiting' | 'building' | 'preparing' | 'starting' | 'health' | 'ready' | 'unchanged' | 'failed'

export interface ServiceEvent {
  service: string
  phase: ServicePhase
  /** A line for people: "waiting for psql", "ready at 127.64.1.3:8080". */
  message?: string
  /** The service's last log lines, when it failed. */
  lastLines?: string[]
}

export interface UpOptions {
  /** Services to bring up (with their dependencies); all when empty. */
  services: string[]
  /** Restart services even when their definition did not change. */
  recreate?: boolean
}

export interface UpResult {
  ok: boolean
  services: ServiceState[]
  /** The service that failed first, when not ok. */
  failed?: { service: string; message: string; lastLines: string[] }
}

/**
 * The engine drives a runtime; providers implement it: `bundled` (a supervisor per project,
 * services as process trees on their own loopback addresses), and later `docker`.
 */
export interface Runtime {
  readonly name: string
  up(spec: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  /** Stops services (and what depends on them); all when none are named. Data is kept. */
  stop(spec: EnvSpec, services: string[]): Promise<ServiceState[]>
  restart(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  /** Stops everything and ends whatever the runtime keeps running for the project. */
  down(spec: EnvSpec): Promise<void>
  /** Runs the build steps of the named services (all with a build when none). */
  build(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  inspect(spec: EnvSpec): Promise<ProjectState>
}
