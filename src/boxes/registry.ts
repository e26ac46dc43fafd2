import type { BoxKind } from '../envfile/model.js'
import type { BoxDriver } from './driver.js'

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
