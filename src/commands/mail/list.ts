import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors, table } from '../../cli/index.js'
import { MailClient, type MessageSummary } from '../../boxes/mail/index.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class MailList extends BaseCommand<typeof MailList> {
  static override summary = 'List the messages the mail service caught, newest first.'
  static override description =
    'SEARCH is a Mailpit search: from:ADDR, to:ADDR, subject:WORD, is:unread, is:read, has:attachment, plain words; "quoted phrases"; -term excludes.'
  static override examples = [
    '<%= config.bin %> mail list',
    '<%= config.bin %> mail list --to 3pg@example.test',
    '<%= config.bin %> mail list --search "from:app@example.test is:unread"',
    '<%= config.bin %> mail list --json',
    '<%= config.bin %> mail list mail2',
  ]
  static override args = {
    service: Args.string({ description: 'mail service (default: the first mail service of the envfile)' }),
  }
  static override flags = {
    ...projectFlags,
    to: Flags.string({ description: 'only messages delivered to this address', helpValue: 'ADDR' }),
    search: Flags.string({ char: 'q', description: 'only messages matching this Mailpit search', helpValue: 'QUERY' }),
  }

  async run(): Promise<MessageSummary[]> {
    const spec = this.loadSpec()
    const client = await MailClient.forService(spec, this.args.service, (service) => serviceEndpoint(spec, service))
    const { to, search } = this.flags
    const messages = await client.list({ ...(to ? { to } : {}), ...(search ? { search } : {}) })
    if (!this.jsonEnabled()) {
      if (messages.length === 0) this.log(colors.dim(to || search ? 'no messages match' : 'no messages'))
      else
        this.log(
          table(
            ['ID', 'DATE', 'FROM', 'TO', 'SUBJECT', 'SIZE'],
            messages.map((message) => [
              message.id,
              message.date.replace('T', ' ').slice(0, 19),
              message.from,
              message.to.join(', '),
              message.subject,
              String(message.size),
            ]),
          ),
        )
    }
    return messages
  }
}
