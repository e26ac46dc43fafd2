/** The envfile as written, after schema validation: shapes the schema allows, nothing resolved. */
import type { RawResources } from './resources.js'

export type RawDuration = number | string
export type RawEnv = Record<string, string | number | boolean | null> | string[]

export interface RawEnvfile {
  name?: string
  domain?: string
  runtime?: 'bundled' | 'docker'
  services: Record<string, RawService>
  integrity?: { files?: string[]; manifest?: string }
}

export type RawMount =
  string | { source: string; target: string; readonly?: boolean; watch?: RawWatch; ignore?: string[] }
export type RawWatch = 'restart' | 'sync' | 'none' | boolean | string | { command: string }
export type RawPublish = string | number | { address?: string; host: number; port: number }

export interface RawHealth {
  tcp?: number | true
  http?: string | { path: string; port?: number; status?: number }
  command?: string
  interval?: RawDuration
  timeout?: RawDuration
  retries?: number
  start_period?: RawDuration
}

export interface RawService {
  box?: string
  image?: string
  build?:
    | string
    | { command: string; inputs?: string[]; workdir?: string }
    | { context: string; dockerfile?: string; args?: Record<string, string | number | boolean>; target?: string }
  command?: string | string[]
  workdir?: string
  env?: RawEnv
  env_file?: string | string[]
  hostnames?: string[]
  ports?: number[]
  publish?: RawPublish[]
  mounts?: RawMount[]
  health?: RawHealth | false | 'none'
  depends_on?: string[] | Record<string, { condition?: 'started' | 'healthy' | 'completed' }>
  restart?:
    | 'no'
    | 'on-failure'
    | 'always'
    | false
    | { policy?: 'no' | 'on-failure' | 'always'; max_restarts?: number; backoff?: RawDuration }
  stop_timeout?: RawDuration
  replicas?: number
  resources?: RawResources
  integrity?: string[]
  version?: string | number
  port?: number
  databases?: Array<{ name: string; user?: string; password?: string; seed?: string | string[] }>
  settings?: Record<string, string | number | boolean>
  backends?: string[]
  strategy?: 'round-robin' | 'least-conn'
  sticky?: boolean | { cookie?: string }
  tls?: boolean
  backend_port?: number
  accounts?: string[]
  catch_all?: boolean
  max_size?: number | string
  users?: Array<{ name: string; password: string; root?: string }>
  pasv_ports?: string
  root?: string
  spa?: boolean
}
