import { readFileSync } from 'node:fs'
import type { LoginGuardSettings } from './login-guard.js'

export interface FtpServerUser {
  name: string
  password: string
  /** Absolute host folder the user is confined to. */
  root: string
}

/** What the ftp box's server process is told, in the JSON file (mode 0600: it holds passwords) the driver writes. */
export interface FtpServerConfig {
  address: string
  /** The address passive replies name, when clients reach the server at another than it listens on. */
  publicAddress?: string
  port: number
  pasvPorts: [number, number]
  users: FtpServerUser[]
  /** Missing in configs written before it existed: the defaults then. */
  loginGuard?: LoginGuardSettings
}

export function readFtpConfig(file: string | undefined): FtpServerConfig {
  if (!file) throw new Error('DEVENV_BOX_CONFIG is not set: the ftp box is started by devenv')
  const config = JSON.parse(readFileSync(file, 'utf8')) as FtpServerConfig
  for (const key of ['address', 'port', 'pasvPorts', 'users'] as const) {
    if (config[key] === undefined) throw new Error(`${file}: missing ${key}`)
  }
  return config
}
