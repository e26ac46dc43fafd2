import path from 'node:path'
import { machineHome } from '../state/index.js'

export interface CaPaths {
  dir: string
  certificate: string
  privateKey: string
}

/** The machine's certificate authority lives in <machineHome>/tls. */
export function caPaths(home: string = machineHome()): CaPaths {
  const dir = path.join(home, 'tls')
  return { dir, certificate: path.join(dir, 'ca.pem'), privateKey: path.join(dir, 'ca-key.pem') }
}
