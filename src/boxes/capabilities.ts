import type { EnvSpec, ServiceSpec } from '../envfile/index.js'
import type { Endpoint } from './driver.js'

/*
 * What a box can do beyond running (the driver's part): keep snapshot copies inside itself, say
 * which version its saved state has, and what `devenv shell` opens. Each box declares its own in
 * its folder (boxes/<name>/capabilities.ts), registered once in registry.ts; the snapshot module
 * and the commands ask through here and never branch on a box's kind.
 */

/** Brings the service back (starts it again, or ends the checkpoint). */
export type Resume = () => Promise<void>
/** Makes the service's data folder safe to copy or replace; returns how to undo that. */
export type Quiesce = () => Promise<Resume>

/** Fault injection for crash-safety tests: kills the process at a named step when asked to. */
export type CrashPoint = (step: string) => void

/**
 * State a service keeps copies of inside itself (PostgreSQL: template databases in its own
 * cluster), restored by a swap in the running service instead of a file copy and a restart.
 * The snapshot module records and orchestrates; the box does the work.
 */
export interface CopyRecord {
  database: string
  /** The copy's name inside the service. */
  copy: string
  size: number
  files: number
  /** Tree checksum of the copy's files. */
  checksum: string
}

export interface PreparedSwap {
  /** Every replacement was a ready, verified spare: the swap is a rename. */
  fromSpare: boolean
  commit(): Promise<void>
  abandon(): Promise<void>
}

export interface ServiceCopies {
  save(id: string, snapshot: string): Promise<CopyRecord[]>
  /** Replacements beside the live state, verified against the records; nothing visible changes yet. */
  prepare(copies: CopyRecord[]): Promise<PreparedSwap>
  drop(copies: string[]): Promise<void>
  /**
   * Cleans up after a killed operation: databases left closed to connections are opened again,
   * and copies no snapshot names any more (a save killed before it published its manifest) dropped.
   */
  recover(keep: Set<string>): Promise<void>
  /**
   * Paths in the data folder, relative to it, that hold no state of the service's own: the
   * snapshot copies and their spares. A committed box leaves them out.
   */
  notState(): Promise<string[]>
}

/** What `devenv shell` runs for a service of the box, instead of a plain shell. */
export interface ShellCommand {
  command: string
  args: string[]
  /** Printed instead when the command is not installed. */
  whenMissing: string
}

export interface BoxCapabilities {
  /** The version saved state must match (postgres: the cluster's major version). Default '1'. */
  stateVersion?(service: ServiceSpec, dataDir: string): string
  /**
   * The box keeps its snapshots inside the running service. `endpoint` is undefined when it is
   * not running: then copies can only be unregistered. Loaded on demand (it brings a client library).
   */
  serviceCopies?(spec: EnvSpec, service: string, endpoint: Endpoint | undefined, crashPoint: CrashPoint): Promise<ServiceCopies>
  /** Refuses a snapshot that could hold nothing (postgres without declared databases). */
  checkSnapshottable?(spec: EnvSpec, service: string): void
  shell?(spec: EnvSpec, service: string, endpoint: Endpoint, options: { database?: string }): ShellCommand
  /** Variables `exec` and `shell` add for the clients people run against the service (postgres: PGHOST and the rest). */
  clientEnvironment?(spec: EnvSpec, service: string, endpoint: Endpoint, database?: string): Record<string, string>
  /** Connection URLs `devenv status` shows for the service (postgres: one per database), secrets masked unless asked. */
  urls?(spec: EnvSpec, service: string, options: { showSecrets?: boolean; endpoint?: Endpoint }): string[]
}
