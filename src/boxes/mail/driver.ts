import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DevenvError } from '../../errors.js'
import { writeJsonAtomic } from '../../state/atomic.js'
import type { BoxDriver, ServiceContext } from '../driver.js'
import type { MailServerConfig } from './config.js'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

function configPath(context: ServiceContext): string {
  return path.join(context.runDir, 'mail.json')
}

/** The mail box: an SMTP catcher with a web page and JSON API, run as a Node program of the package. */
export const mailDriver: BoxDriver = {
  kind: 'mail',

  async prepare(context) {
    const settings = context.service.mail
    if (!settings) throw new DevenvError('BOX', `service ${context.service.name} has no mail settings`)
    const messagesDir = path.join(context.dataDir, 'messages')
    mkdirSync(messagesDir, { recursive: true })
    const config: MailServerConfig = {
      address: context.address,
      smtpPort: context.port(settings.smtpPort),
      webPort: context.port(settings.webPort),
      hostname: context.service.hostnames[0] ?? 'localhost',
      accounts: settings.accounts.map((account) => account.toLowerCase()),
      catchAll: settings.catchAll,
      maxSizeBytes: settings.maxSizeBytes,
      messagesDir,
    }
    writeJsonAtomic(configPath(context), config)
  },

  launch(context) {
    return {
      command: process.execPath,
      args: [MAIN],
      env: { ...context.env, DEVENV_BOX_CONFIG: configPath(context) },
      cwd: context.dataDir,
    }
  },
}
