import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/base-command.js'
import { colors } from '../../cli/output.js'
import { MailClient, type ParsedMessage } from '../../boxes/mail/client.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class MailShow extends BaseCommand<typeof MailShow> {
  static override summary = 'Show one caught message: its headers, text and attachments, or the raw .eml.'
  static override examples = [
    '<%= config.bin %> mail show 3',
    '<%= config.bin %> mail show 3 --raw > message.eml',
    '<%= config.bin %> mail show 3 --json',
  ]
  static override args = {
    id: Args.string({ description: 'message id, as `devenv mail list` shows it', required: true }),
  }
  static override flags = {
    ...projectFlags,
    service: Flags.string({ char: 's', description: 'mail service (default: the first mail service of the envfile)', helpValue: 'SERVICE' }),
    raw: Flags.boolean({ description: 'print the message whole, as received (.eml)', exclusive: ['json'] }),
  }

  async run(): Promise<ParsedMessage | undefined> {
    const spec = this.loadSpec()
    const client = await MailClient.forService(spec, this.flags.service, (service) => serviceEndpoint(spec, service))
    if (this.flags.raw) {
      process.stdout.write(await client.raw(this.args.id))
      return undefined
    }
    const message = await client.show(this.args.id)
    if (!this.jsonEnabled()) {
      const field = (name: string, value: string): void => this.log(`${colors.bold(`${name}:`.padEnd(9))}${value}`)
      field('From', message.from)
      field('To', message.to.join(', '))
      field('Subject', message.subject)
      field('Date', message.date)
      field('Size', `${message.size} bytes`)
      for (const attachment of message.attachments) field('Attached', `${attachment.filename ?? '(unnamed)'} (${attachment.contentType}, ${attachment.size} bytes)`)
      this.log('')
      this.log(message.text ?? colors.dim(message.html ? '(HTML only: see it with --raw or on the web page)' : '(no text)'))
    }
    return message
  }
}
