/**
 * The normalised model of an envfile: what every other module works from.
 * Produced by loadEnvfile() after parse, interpolate, validate, defaults. Paths are absolute,
 * durations are milliseconds, every optional list is present (maybe empty).
 */

export type BoxKind = 'process' | 'node' | 'static' | 'postgres' | 'lb' | 'mail' | 'ftp'

export type RuntimeName = 'bundled' | 'docker'

export interface EnvSpec {
  /** Project name: a DNS label, from `name:` or the folder name. */
  name: string
  domain?: string
  runtime: RuntimeName
  /** The project folder (the envfile's folder), absolute. */
  root: string
  /** The envfile, absolute. */
  file: string
  /** Services in the order the envfile declares them. */
  services: Record<string, ServiceSpec>
  integrity: IntegritySpec
}

export interface IntegritySpec {
  /** Project-wide globs, relative to root. */
  files: string[]
  manifest?: string
}

export interface BoxRef {
  /** Box name as written: a built-in kind, or a committed box from the box store. */
  name: string
  tag?: string
}

export { DEFAULT_HEALTH_TIMING } from '../util/health-timing.js'

export interface ServiceSpec {
  name: string
  box: BoxRef
  /** What the box is at heart: decides the driver. A committed box keeps its base kind. */
  kind: BoxKind
  /** An OCI image to run. */
  image?: string
  build?: BuildSpec
  /** An image the engine builds from a Dockerfile (docker runtime). */
  imageBuild?: ImageBuildSpec
  /** Shell command line; `${HOST}`, `${PORT}` and `${DEVENV_*}` are substituted at start. */
  command?: string
  /** Working folder on the host, absolute. */
  workdir: string
  env: Record<string, string>
  /** Every hostname of the service, `<service>.<domain>` included when a domain is set. */
  hostnames: string[]
  /** Ports the service listens on at its own address. The first is `PORT`. */
  ports: number[]
  publish: PublishSpec[]
  mounts: MountSpec[]
  health?: HealthSpec
  /** The envfile turned health checks off (`health: none`): no default check is added later (an image's ExposedPorts). */
  healthOff?: true
  dependsOn: DependencySpec[]
  restart: RestartSpec
  stopTimeoutMs: number
  /** Limits applied through cgroups (v2 or v1) on Linux. */
  resources?: ResourceLimits
  /** Globs relative to root whose checksums must match devenv.lock before this service starts. */
  integrity: string[]
  postgres?: PostgresSettings
  lb?: LbSettings
  mail?: MailSettings
  ftp?: FtpSettings
  static?: StaticSettings
  /** Set on each instance of a service written with `replicas: N` (N > 1): which one it is. */
  replica?: ReplicaSpec
}

/**
 * One instance of a replicated service. `replicas: 3` on `www` becomes services www-1, www-2 and
 * www-3, each a plain service to every runtime; exporters regroup them by `of`.
 */
export interface ReplicaSpec {
  /** The service name as written in the envfile (www). */
  of: string
  /** 1-based. */
  index: number
  count: number
}

export interface ResourceLimits {
  memoryBytes?: number
  cpus?: number
}

export interface BuildSpec {
  command: string
  /** Globs relative to the build's workdir; their checksum decides whether to build again. */
  inputs: string[]
  workdir: string
}

export interface ImageBuildSpec {
  /** The build context folder, absolute, inside the project folder. */
  context: string
  /** The Dockerfile, relative to the context. */
  dockerfile: string
  args: Record<string, string>
  target?: string
}

export interface PublishSpec {
  /** Host address to listen on: 127.0.0.1 unless the envfile says otherwise. */
  hostAddress: string
  hostPort: number
  /** The service port it forwards to. */
  port: number
}

export type WatchAction =
  { kind: 'none' } | { kind: 'sync' } | { kind: 'restart' } | { kind: 'command'; command: string }

export interface MountSpec {
  /** Absolute host path, inside the project folder. */
  source: string
  /** Where the service expects to find it. */
  target: string
  readonly: boolean
  watch: WatchAction
  /** Globs (relative to source) whose changes are ignored, besides .git and node_modules. */
  ignore: string[]
}

export type HealthCheck =
  | { kind: 'tcp'; port: number }
  | { kind: 'http'; path: string; port: number; status?: number }
  | { kind: 'command'; command: string }
  /** The box knows how to tell (postgres: accepts connections and every database exists). */
  | { kind: 'box' }

export interface HealthSpec {
  check: HealthCheck
  intervalMs: number
  timeoutMs: number
  retries: number
  startPeriodMs: number
}

export type DependencyCondition = 'started' | 'healthy' | 'completed'

export interface DependencySpec {
  service: string
  condition: DependencyCondition
}

export type RestartPolicy = 'no' | 'on-failure' | 'always'

export interface RestartSpec {
  policy: RestartPolicy
  /** Restarts allowed within the crash-loop window before the service is marked failed. */
  maxRestarts: number
  backoffMs: number
}

export interface DatabaseSpec {
  name: string
  user: string
  password: string
  /** Absolute paths of seed files or folders, in order. */
  seed: string[]
}

export interface PostgresSettings {
  version?: string
  port: number
  databases: DatabaseSpec[]
  settings: Record<string, string>
}

export type LbStrategy = 'round-robin' | 'least-conn'

export interface LbSettings {
  backends: string[]
  strategy: LbStrategy
  /** Cookie name for sticky sessions, when enabled. */
  stickyCookie?: string
  httpPort: number
  /** HTTPS port, when TLS is on. */
  httpsPort?: number
  /** The backends' port to forward to (default: each backend's first port). */
  backendPort?: number
}

export interface MailSettings {
  accounts: string[]
  catchAll: boolean
  smtpPort: number
  webPort: number
  maxSizeBytes: number
}

export interface FtpUser {
  name: string
  password: string
  /** Absolute folder, inside the project folder. */
  root: string
}

export interface FtpSettings {
  users: FtpUser[]
  port: number
  pasvPorts: [number, number]
}

export interface StaticSettings {
  /** Absolute folder to serve, inside the project folder. */
  root: string
  port: number
  spa: boolean
}
