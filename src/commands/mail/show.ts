import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { MailClient, type ParsedMessage } from '../../boxes/mail/index.js'
import { serviceEndpoint } from '../../engine/index.js'
import { saveAttachments, type SavedAttachment } from '../../boxes/mail/index.js'

export default class MailShow extends BaseCommand<typeof MailShow> {
  static override summary = 'Show one caught message: its headers, text and attachments, or the raw .eml.'
  static override examples = [
    '<%= config.bin %> mail show 3',
    '<%= config.bin %> mail show latest',
    '<%= config.bin %> mail show 3 --raw > message.eml',
    '<%= config.bin %> mail show 3 --save-attachments ./attachments',
    '<%= config.bin %> mail show 3 --json',
  ]
  static override args = {
    id: Args.string({ description: 'message id, as `devenv mail list` shows it, or latest', required: true }),
  }
  static override flags = {
    ...projectFlags,
    service: Flags.string({
      char: 's',
      description: 'mail service (default: the first mail service of the envfile)',
      helpValue: 'SERVICE',
    }),
    raw: Flags.boolean({
      description: 'print the message whole, as received (.eml)',
      exclusive: ['json', 'save-attachments'],
    }),
    'save-attachments': Flags.string({
      description: 'write each attachment into this folder (created if missing)',
      helpValue: 'DIR',
    }),
  }

  async run(): Promise<(ParsedMessage & { saved?: SavedAttachment[] }) | undefined> {
    const spec = this.loadSpec()
    const client = await MailClient.forService(spec, this.flags.service, (service) => serviceEndpoint(spec, service))
    if (this.flags.raw) {
      process.stdout.write(await client.raw(this.args.id))
      return undefined
    }
    const message = await client.show(this.args.id)
    const folder = this.flags['save-attachments']
    const saved =
      folder === undefined ? undefined : await saveAttachments(client, message.id, message.attachments, folder)
    if (!this.jsonEnabled()) this.render(message, saved)
    return saved ? { ...message, saved } : message
  }

  private render(message: ParsedMessage, saved: SavedAttachment[] | undefined): void {
    const fields: [string, string][] = [
      ['ID', message.id],
      ['From', message.from],
      ['To', message.to.join(', ')],
      ...(message.cc.length ? [['Cc', message.cc.join(', ')] as [string, string]] : []),
      ...(message.bcc.length ? [['Bcc', message.bcc.join(', ')] as [string, string]] : []),
      ['Subject', message.subject],
      ['Date', message.date],
      ['Size', `${message.size} bytes`],
      ...message.attachments.map((attachment): [string, string] => [
        'Attached',
        `${attachment.filename || '(unnamed)'} (${attachment.contentType}, ${attachment.size} bytes)`,
      ]),
      ...(saved ?? []).map((attachment): [string, string] => ['Saved', attachment.path]),
    ]
    // one space at least after the longest label ("Attached:")
    const width = Math.max(...fields.map(([name]) => name.length)) + 2
    for (const [name, value] of fields) this.log(`${colors.bold(`${name}:`.padEnd(width))}${value}`)
    this.log('')
    this.log(
      message.text ?? colors.dim(message.html ? '(HTML only: see it on the web page, or with --raw)' : '(no text)'),
    )
  }
}
