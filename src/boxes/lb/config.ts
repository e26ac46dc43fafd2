import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import type { LbStrategy } from '../../envfile/index.js'

/** How the balancer judges a backend: an HTTP GET expecting 2xx/3xx (or `status`), else a TCP connect. */
export type BackendCheck = { kind: 'http'; path: string; port: number; status?: number } | { kind: 'tcp'; port: number }

export interface BackendConfig {
  /** The backend's service name: shown in X-Devenv-Backend and the sticky cookie. */
  name: string
  address: string
  port: number
  check: BackendCheck
  /** The backend name it was resolved from, for one of several addresses of a DNS round-robin name. */
  group?: string
}

/** What the lb driver writes and the lb server reads: everything resolved, nothing left to look up. */
export interface LbConfig {
  service: string
  address: string
  /** The service's hostnames; the first is the Host of requests that name none (HTTP/1.0). */
  hostnames?: string[]
  httpPort: number
  https?: { port: number; certificateFile: string; privateKeyFile: string }
  strategy: LbStrategy
  stickyCookie?: string
  backends: BackendConfig[]
  healthIntervalMs: number
  /** Consecutive failed checks that take a backend out, and passed checks that bring it back. */
  fall: number
  rise: number
  /** No answer from a backend within this long: 504. */
  backendTimeoutMs: number
}

// HAProxy's default check interval (inter 2s). A backend that refuses a request is taken out at
// once; the checks find quieter failures (a hung backend) within ~4 s. Every 1 s cost the idle
// webapp stack 0.3 % of a core more (docs/benchmarks.md, webapp).
export const LB_DEFAULTS = { healthIntervalMs: 2000, fall: 2, rise: 2, backendTimeoutMs: 60_000 } as const

/** Reads and checks a config file; throws an Error naming the file and the field on anything off. */
export function readLbConfig(file: string): LbConfig {
  let raw: unknown
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`cannot read the lb config ${file}: ${(error as Error).message}`)
  }
  const problems: string[] = []
  const config = { ...LB_DEFAULTS, ...(raw as Partial<LbConfig>) } as LbConfig
  const port = (value: unknown): boolean => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535
  if (typeof config.service !== 'string') problems.push('service must be a string')
  if (typeof config.address !== 'string' || !isIP(config.address)) problems.push('address must be an IP address')
  if (!port(config.httpPort)) problems.push('httpPort must be a port number')
  if (config.hostnames !== undefined && (!Array.isArray(config.hostnames) || !config.hostnames.every((name) => typeof name === 'string'))) problems.push('hostnames must be a list of strings')
  if (config.https && (!port(config.https.port) || typeof config.https.certificateFile !== 'string' || typeof config.https.privateKeyFile !== 'string')) {
    problems.push('https needs port, certificateFile and privateKeyFile')
  }
  if (config.strategy !== 'round-robin' && config.strategy !== 'least-conn') problems.push('strategy must be round-robin or least-conn')
  if (!Array.isArray(config.backends) || config.backends.length === 0) problems.push('backends must be a non-empty list')
  else {
    config.backends.forEach((backend, index) => {
      if (typeof backend?.name !== 'string' || typeof backend.address !== 'string' || !port(backend.port)) problems.push(`backends[${index}] needs name, address and port`)
      else if (!backend.check || (backend.check.kind !== 'http' && backend.check.kind !== 'tcp') || !port(backend.check.port)) problems.push(`backends[${index}].check must be {kind: http|tcp, port}`)
    })
  }
  for (const key of ['healthIntervalMs', 'fall', 'rise', 'backendTimeoutMs'] as const) {
    if (!Number.isInteger(config[key]) || config[key] <= 0) problems.push(`${key} must be a positive integer`)
  }
  if (problems.length) throw new Error(`invalid lb config ${file}: ${problems.join('; ')}`)
  return config
}
