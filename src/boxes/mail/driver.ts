import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../../errors.js'
import type { BoxDriver } from '../driver.js'
import { NodeProgramBox } from '../node-program.js'
import type { MailServerConfig } from './config.js'

const program = new NodeProgramBox(new URL('./main.js', import.meta.url), 'mail')

/** The mail box: an SMTP catcher with a web page and Mailpit's REST API v1, run as a Node program of the package. */
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
    program.writeConfig(context, config)
  },

  launch(context) {
    return program.launch(context, context.dataDir)
  },
}
