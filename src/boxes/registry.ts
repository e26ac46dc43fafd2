import type { BoxKind } from '../envfile/index.js'
import type { BoxCapabilities } from './capabilities.js'
import type { BoxDriver } from './driver.js'
import { postgresCapabilities } from './postgres/capabilities.js'

/**
 * Drivers are loaded when a service of their box starts, so a supervisor of plain processes
 * never pays for pg, node-forge or the mail parser.
 */
const LOADERS: Record<BoxKind, () => Promise<BoxDriver>> = {
  process: async () => (await import('./process/driver.js')).processDriver,
  node: async () => (await import('./node/driver.js')).nodeDriver,
  static: async () => (await import('./static/driver.js')).staticDriver,
  postgres: async () => (await import('./postgres/driver.js')).postgresDriver,
  lb: async () => (await import('./lb/driver.js')).lbDriver,
  mail: async () => (await import('./mail/driver.js')).mailDriver,
  ftp: async () => (await import('./ftp/driver.js')).ftpDriver,
}

export function driverFor(kind: BoxKind): Promise<BoxDriver> {
  return LOADERS[kind]()
}

/** What each box can do beyond running; a box without an entry has none of the optional capabilities. */
const CAPABILITIES: Partial<Record<BoxKind, BoxCapabilities>> = {
  postgres: postgresCapabilities,
}

export function capabilitiesOf(kind: BoxKind): BoxCapabilities {
  return CAPABILITIES[kind] ?? {}
}
