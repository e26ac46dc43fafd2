import { readFileSync } from 'node:fs'

/** What the mail box's server process is told, in the JSON file the driver writes into the run folder. */
export interface MailServerConfig {
  address: string
  smtpPort: number
  webPort: number
  /** Name the server gives in its SMTP greeting (the service's first hostname). */
  hostname: string
  /** Addresses the service declares, lower-cased. */
  accounts: string[]
  /** Accept mail for any recipient, as a mail catcher does. */
  catchAll: boolean
  maxSizeBytes: number
  /** Where each message is kept whole, as <id>.eml beside its <id>.json summary. */
  messagesDir: string
}

/** Reads the config file named by DEVENV_BOX_CONFIG; a process started without one cannot serve. */
export function readMailConfig(file: string | undefined): MailServerConfig {
  if (!file) throw new Error('DEVENV_BOX_CONFIG is not set: the mail box is started by devenv')
  const config = JSON.parse(readFileSync(file, 'utf8')) as MailServerConfig
  for (const key of ['address', 'smtpPort', 'webPort', 'hostname', 'accounts', 'catchAll', 'maxSizeBytes', 'messagesDir'] as const) {
    if (config[key] === undefined) throw new Error(`${file}: missing ${key}`)
  }
  return config
}
