import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags, statusReport, type StatusReport } from '../cli/index.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show each service: state, health, address, ports, hostnames.'
  static override aliases = ['ps']
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status www1 db',
    '<%= config.bin %> ps',
    '<%= config.bin %> status --show-secrets',
    '<%= config.bin %> status --json | jq \'.services[] | select(.health != "healthy")\'',
  ]
  static override strict = false
  static override args = { services: Args.string({ description: 'services to show (default: all)' }) }
  static override flags = {
    ...projectFlags,
    'show-secrets': Flags.boolean({ description: 'show passwords in database connection URLs' }),
    wide: Flags.boolean({
      char: 'w',
      description: 'every hostname, however wide the table (the default when output is not a terminal)',
    }),
  }

  async run(): Promise<StatusReport> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Status)
    const options = { names: argv as string[], showSecrets: this.flags['show-secrets'], wide: this.flags.wide }
    return statusReport(spec, options, this.output())
  }
}
