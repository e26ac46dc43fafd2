import { Flags } from '@oclif/core'
import { BaseCommand, hostsWriteFlags, projectFlags, takeDown, type DownReport } from '../cli/index.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = "Stop every service and the project's supervisor. Data is kept."
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --json']
  static override flags = {
    ...projectFlags,
    ...hostsWriteFlags,
    'no-hosts': Flags.boolean({ description: 'leave the hosts file alone' }),
  }

  async run(): Promise<DownReport> {
    const options = { keepHosts: this.flags['no-hosts'], noSudo: this.flags['no-sudo'] }
    return takeDown(this.loadSpec(), options, this.output())
  }
}
