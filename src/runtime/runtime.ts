import type { Endpoint } from '../boxes/index.js'
import type { EnvSpec, ServiceSpec } from '../envfile/index.js'
import type { ProjectState, ServiceState } from '../state/index.js'

/** What happens to one service while `up` brings it up, for progress display. */
export type ServicePhase =
  'waiting' | 'building' | 'preparing' | 'starting' | 'health' | 'ready' | 'unchanged' | 'failed'

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

/** Where a log line came from: the service's stdout or stderr, or devenv itself (starts, exits, health). */
export type LogStream = 'out' | 'err' | 'devenv'

export interface ServiceLogLine {
  service: string
  time: string
  stream: LogStream
  text: string
}

export interface LogQuery {
  since?: Date
  /** Only the last lines. */
  tail?: number
}

/** How to run a command inside a running service: its environment, folder and the way in. */
export interface ExecContext {
  env: Record<string, string>
  cwd: string
  /** A command prefix that enters the service's own namespaces (nsenter, docker exec), when it has them. */
  enter?: string[]
}

export interface DownResult {
  /** Something of the project ran when `down` came (false: it was already down). */
  wasRunning: boolean
}

/** Whether anything of the project is running on this runtime, and what (for global-status). */
export interface RuntimeActivity {
  active: boolean
  /** "supervisor pid 4242", "3 containers". */
  detail?: string
  /** The controlling process, on runtimes that have one. */
  pid?: number
  /** The services it runs, on runtimes that keep no state file of their own (global-status). */
  services?: string[]
}

/**
 * One service of a project on its runtime, as testcontainers' StartedTestContainer and Compose's
 * api.Service are: where it answers, how to run a command in it, its logs, stop and start.
 */
export interface ServiceHandle {
  readonly name: string
  inspect(): Promise<ServiceState>
  /** Running under the runtime's control now (not merely left over by a dead supervisor). */
  isRunning(): Promise<boolean>
  /** Where it answers; NOT_FOUND when it is not running. */
  endpoint(): Promise<Endpoint>
  /** Where it answers if running, else undefined. */
  endpointIfRunning(): Promise<Endpoint | undefined>
  execContext(): Promise<ExecContext>
  logs(query?: LogQuery): Promise<ServiceLogLine[]>
  follow(onLine: (line: ServiceLogLine) => void, signal: AbortSignal): Promise<void>
  start(onEvent?: (event: ServiceEvent) => void): Promise<UpResult>
  stop(): Promise<void>
}

/** What a service is given by the engine before each start, whatever runs it. */
export interface PreparationContext {
  project: EnvSpec
  /** The environment the service (and its build) runs with. */
  env: Record<string, string>
  /** The service's persistent data folder. */
  dataDir: string
  /** Appends a line of devenv's own to the service's log. */
  note(line: string): void
  /** The build's output, into the service's log. */
  output(stream: 'out' | 'err', data: Buffer): void
  signal: AbortSignal
}

/**
 * The work around a start that does not depend on the provider: building, putting data right after
 * an interrupted snapshot operation, seeding a first boot from a committed box. The engine
 * implements it; a runtime calls it before every start (crash restarts included).
 */
export interface ServicePreparation {
  /** Runs the build when its inputs changed (always with `force`); true when it ran. */
  build(
    service: ServiceSpec,
    context: PreparationContext,
    force: boolean,
    onPhase: (message: string) => void,
  ): Promise<boolean>
  /** Recovers and seeds the data folder; called after build, before the box prepares. */
  prepareData(service: ServiceSpec, context: PreparationContext): Promise<void>
}

/** What a runtime is made with: the engine's part of every start. */
export interface RuntimeOptions {
  /**
   * A module exporting `preparation: ServicePreparation`, by URL: a runtime whose services start in
   * another process (the bundled supervisor) loads it there, so the runtime never imports the engine.
   */
  preparationModule: string
  /**
   * The same preparation, for a runtime that prepares services in the caller's own process (the
   * docker provider): the caller's copy of it. Importing `preparationModule` there would load a
   * second copy of the engine beside the CLI's bundle, whose module state (the snapshot operations
   * this process began, the notice sink) the CLI's copy never sees.
   */
  loadPreparation?: () => Promise<ServicePreparation>
}

/**
 * The engine drives a runtime; providers implement it under runtime/<provider>/ and register in
 * runtime/index.ts: `bundled` (a supervisor per project, services as process trees on their own
 * loopback addresses), and later `docker`.
 */
export interface Runtime {
  readonly name: string
  up(spec: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  /** Stops the named services, dependents first when they are named too; all when none are named. Data is kept. */
  stop(spec: EnvSpec, services: string[]): Promise<ServiceState[]>
  restart(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  /** Stops everything and ends whatever the runtime keeps running for the project. */
  down(spec: EnvSpec): Promise<DownResult>
  /** Runs the build steps of the named services (all with a build when none). */
  build(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult>
  inspect(spec: EnvSpec): Promise<ProjectState>
  service(spec: EnvSpec, name: string): ServiceHandle
  /** Each named service's address, allocating what is missing (the hosts file needs them before `up`). */
  addresses(spec: EnvSpec, services: readonly string[]): Promise<Record<string, string>>
  /** The services' log lines merged in time order. */
  logs(spec: EnvSpec, services: readonly string[], query?: LogQuery): Promise<ServiceLogLine[]>
  /** Follows the services' logs until `signal` aborts. */
  follow(
    spec: EnvSpec,
    services: readonly string[],
    onLine: (line: ServiceLogLine) => void,
    signal: AbortSignal,
  ): Promise<void>
  /** Is anything of the project at `root` running on this runtime? For projects known only by folder. */
  activity(root: string): RuntimeActivity
  /**
   * Runtimes with an image store of their own (an engine) also commit a service run from an image
   * as an image there, its data folder included, that another project's `image:` starts from.
   * Undefined where the service is not run from an image (its box in the box store is the way).
   */
  commitImage?(spec: EnvSpec, service: string, reference: string): Promise<{ image: string; id: string } | undefined>
}
