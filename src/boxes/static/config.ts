import { readFileSync } from 'node:fs'
import path from 'node:path'

/** What the static server process is told, through the JSON file DEVENV_BOX_CONFIG names. */
export interface StaticServerConfig {
  service: string
  /** Absolute folder served. */
  root: string
  address: string
  port: number
  /** Answer unknown paths with /index.html (single-page apps). */
  spa: boolean
}

/** Reads and checks the config file; throws an Error whose message names the file and the field. */
export function readStaticServerConfig(file: string): StaticServerConfig {
  let value: unknown
  try {
    value = JSON.parse(readFileSync(file, 'utf8'))
  } catch (error) {
    throw new Error(`cannot read the static box config ${file}: ${(error as Error).message}`)
  }
  const config = value as Partial<StaticServerConfig> | null
  const problem = (field: string, expected: string) => new Error(`static box config ${file}: "${field}" must be ${expected}`)
  if (typeof config !== 'object' || config === null) throw problem('(top level)', 'an object')
  if (typeof config.service !== 'string') throw problem('service', 'a string')
  if (typeof config.root !== 'string' || !path.isAbsolute(config.root)) throw problem('root', 'an absolute path')
  if (typeof config.address !== 'string' || config.address === '') throw problem('address', 'an address')
  if (typeof config.port !== 'number' || !Number.isInteger(config.port) || config.port < 0 || config.port > 65535) {
    throw problem('port', 'a port number')
  }
  if (typeof config.spa !== 'boolean') throw problem('spa', 'true or false')
  return { service: config.service, root: config.root, address: config.address, port: config.port, spa: config.spa }
}
