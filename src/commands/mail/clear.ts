import { Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { MailClient } from '../../boxes/mail/index.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class MailClear extends BaseCommand<typeof MailClear> {
  static override summary = 'Delete every message the mail service caught.'
  static override examples = ['<%= config.bin %> mail clear', '<%= config.bin %> mail clear --service mail2 --json']
  static override flags = {
    ...projectFlags,
    service: Flags.string({
      char: 's',
      description: 'mail service (default: the first mail service of the envfile)',
      helpValue: 'SERVICE',
    }),
  }

  async run(): Promise<{ deleted: number }> {
    const spec = this.loadSpec()
    const deleted = await (
      await MailClient.forService(spec, this.flags.service, (service) => serviceEndpoint(spec, service))
    ).clear()
    if (!this.jsonEnabled()) this.log(`${colors.green('✔')} deleted ${deleted} message${deleted === 1 ? '' : 's'}`)
    return { deleted }
  }
}
