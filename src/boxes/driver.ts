import type { BoxKind, EnvSpec, ServiceSpec } from '../envfile/index.js'

/** Where another service of the project can be reached (for the lb's backends, the app's database). */
export interface Endpoint {
  address: string
  /** The port actually bound for a declared port (they differ only where a fallback was needed). */
  port(declared: number): number
}

/** What a box driver is given about the service it runs. The runtime builds it; drivers only read it. */
export interface ServiceContext {
  project: Pick<EnvSpec, 'name' | 'root' | 'domain'>
  service: ServiceSpec
  /** The address the service listens on: its own (127.x.y.z on Linux), or 0.0.0.0 in a container of its own. */
  address: string
  /** Where clients reach it, when that is not `address` (a container's port published on the service's own address): for certificates and FTP's passive replies. */
  publicAddress?: string
  /** Declared port → port bound on `address`. */
  port(declared: number): number
  /** Persistent state of the service (kept across down/up, deleted by destroy, snapshotted). */
  dataDir: string
  /** Scratch space for this run: generated config files, sockets. */
  runDir: string
  /** Folder of the machine-wide state (DEVENV_HOME): the CA, the box store. */
  machineHome: string
  /** The environment the service runs with: HOST, PORT, DEVENV_* and the declared env. */
  env: Record<string, string>
  /** Appends a line to the service's log. */
  log(line: string): void
  /** Another service of the project. */
  endpoint(service: string): Endpoint
  /** Another service's spec (the lb needs its backends' ports and health checks). */
  peer(service: string): ServiceSpec | undefined
  /** Set when devenv runs as root and the box must not (PostgreSQL refuses root). */
  runAs?: UnprivilegedUser
  signal: AbortSignal
}

/**
 * How a box that refuses root runs when devenv is root. Preferably in a user namespace (`wrap`):
 * the program is `nobody` inside and root outside, so it reaches every folder root can (a project
 * in /root or any 0700 folder) and its files stay root's, with no system user to create. Where
 * user namespaces are not allowed, a system user (`uid`, `gid`) that must be able to reach the folders.
 */
export interface UnprivilegedUser {
  user: string
  /** Prefix that runs a program in the user namespace. */
  wrap?: string[]
  uid?: number
  gid?: number
}

/** Runs `command args` as the box's unprivileged user: inside the user namespace when there is one. */
export function asUnprivileged(runAs: UnprivilegedUser | undefined, command: string, args: string[]): { command: string; args: string[] } {
  if (!runAs?.wrap) return { command, args }
  const [program, ...prefix] = runAs.wrap
  return { command: program!, args: [...prefix, command, ...args] }
}

/** A process to spawn. */
export interface Launch {
  command: string
  args: string[]
  env: Record<string, string>
  cwd: string
  /** Run as this user (the runtime drops privileges when it is root). */
  uid?: number
  gid?: number
  /** Signal that asks the process to stop cleanly (default SIGTERM). */
  stopSignal?: NodeJS.Signals
}

/**
 * A box's driver: how a service of this kind is prepared, started and judged ready.
 * Drivers know nothing of the supervisor; the runtime calls them.
 */
export interface BoxDriver {
  kind: BoxKind
  /** The box refuses to run as root (PostgreSQL): when devenv is root, ctx.runAs names an unprivileged user. */
  unprivileged?: boolean
  /** Before each start: create state, write generated config. Must be idempotent and quick when nothing changed. */
  prepare?(context: ServiceContext): Promise<void>
  /** What to run. */
  launch(context: ServiceContext): Launch | Promise<Launch>
  /** The box's own readiness check, for health kind 'box'. Cheap: no process spawned. */
  probe?(context: ServiceContext): Promise<ProbeResult>
  /**
   * Called after every start once the service is ready, before it is reported ready: first-boot
   * work such as seeding. The driver keeps its own marker in dataDir so the work runs once per data folder.
   */
  initialise?(context: ServiceContext): Promise<void>
  /**
   * On `up` of a service that is already running and unchanged: put right what an interrupted
   * operation left (postgres: databases a killed reset or snapshot left closed). Quick; a failure
   * is noted in the service's log, not fatal.
   */
  settle?(context: ServiceContext): Promise<void>
}

export type ProbeResult = { ok: true } | { ok: false; reason: string }
