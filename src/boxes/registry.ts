import type { BoxKind } from '../envfile/model.js'
import type { BoxDriver } from './driver.js'
import { ftpDriver } from './ftp/driver.js'
import { mailDriver } from './mail/driver.js'
import { nodeDriver } from './node/driver.js'
import { postgresDriver } from './postgres/driver.js'
import { processDriver } from './process/driver.js'

const DRIVERS: Partial<Record<BoxKind, BoxDriver>> = {
  process: processDriver,
  node: nodeDriver,
  postgres: postgresDriver,
  mail: mailDriver,
  ftp: ftpDriver,
}

export function driverFor(kind: BoxKind): BoxDriver {
  const driver = DRIVERS[kind]
  if (!driver) throw new Error(`no driver for box ${kind}`)
  return driver
}
