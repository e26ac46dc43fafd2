import type { BoxKind } from '../envfile/model.js'
import type { BoxDriver } from './driver.js'
import { ftpDriver } from './ftp/driver.js'
import { lbDriver } from './lb/driver.js'
import { mailDriver } from './mail/driver.js'
import { nodeDriver } from './node/driver.js'
import { postgresDriver } from './postgres/driver.js'
import { processDriver } from './process/driver.js'
import { staticDriver } from './static/driver.js'

const DRIVERS: Record<BoxKind, BoxDriver> = {
  process: processDriver,
  node: nodeDriver,
  postgres: postgresDriver,
  mail: mailDriver,
  ftp: ftpDriver,
  static: staticDriver,
  lb: lbDriver,
}

export function driverFor(kind: BoxKind): BoxDriver {
  return DRIVERS[kind]
}
