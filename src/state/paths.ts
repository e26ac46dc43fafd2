import os from 'node:os'
import path from 'node:path'

/** The machine-wide folder: box store, certificate authority, address allocations, known projects. */
export function machineHome(): string {
  if (process.env.DEVENV_HOME) return path.resolve(process.env.DEVENV_HOME)
  const base = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share')
  return path.join(base, 'devenv')
}

/** Where a project's own state lives: .devenv/ beside its envfile. */
export class ProjectPaths {
  readonly root: string
  readonly dir: string

  constructor(root: string) {
    this.root = root
    this.dir = path.join(root, '.devenv')
  }

  get logs(): string {
    return path.join(this.dir, 'logs')
  }

  /** Unix socket paths are limited to ~107 bytes, so long project paths use a hashed name in the tmp dir. */
  get supervisorSocket(): string {
    return path.join(this.dir, 'supervisor.sock')
  }

  get state(): string {
    return path.join(this.dir, 'state.json')
  }

  get buildCache(): string {
    return path.join(this.dir, 'build')
  }

  serviceDir(service: string): string {
    return path.join(this.dir, 'services', service)
  }

  serviceData(service: string): string {
    return path.join(this.serviceDir(service), 'data')
  }

  serviceLog(service: string): string {
    return path.join(this.logs, `${service}.log`)
  }

  get snapshots(): string {
    return path.join(this.dir, 'snapshots')
  }
}
