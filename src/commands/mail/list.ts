import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/base-command.js'
import { colors, table } from '../../cli/output.js'
import { MailClient, type MessageSummary } from '../../boxes/mail/client.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class MailList extends BaseCommand<typeof MailList> {
  static override summary = 'List the messages the mail service caught, newest first.'
  static override examples = [
    '<%= config.bin %> mail list',
    '<%= config.bin %> mail list --to 3pg@example.test',
    '<%= config.bin %> mail list --json',
    '<%= config.bin %> mail list mail2',
  ]
  static override args = {
    service: Args.string({ description: 'mail service (default: the first mail service of the envfile)' }),
  }
  static override flags = {
    ...projectFlags,
    to: Flags.string({ description: 'only messages delivered to this address', helpValue: 'ADDR' }),
  }

  async run(): Promise<MessageSummary[]> {
    const spec = this.loadSpec()
    const client = await MailClient.forService(spec, this.args.service, (service) => serviceEndpoint(spec, service))
    const messages = await client.list(this.flags.to ? { to: this.flags.to } : {})
    if (!this.jsonEnabled()) {
      if (messages.length === 0) this.log(colors.dim(this.flags.to ? `no messages to ${this.flags.to}` : 'no messages'))
      else
        this.log(
          table(
            ['ID', 'DATE', 'FROM', 'TO', 'SUBJECT', 'SIZE'],
            messages.map((message) => [message.id, message.date.replace('T', ' ').slice(0, 19), message.from, message.to.join(', '), message.subject, String(message.size)]),
          ),
        )
    }
    return messages
  }
}
