import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { hostsWriteFlags } from '../../cli/index.js'
import { clearHosts, type HostsResult } from '../../hosts/index.js'

export default class HostsRemove extends BaseCommand<typeof HostsRemove> {
  static override summary = "Take the project's block out of the hosts file."
  static override description = 'Every other byte of the file stays as it was. Elevation works as for `hosts apply`.'
  static override examples = ['<%= config.bin %> hosts remove', '<%= config.bin %> hosts remove --no-sudo --json']
  static override flags = { ...projectFlags, ...hostsWriteFlags }

  async run(): Promise<HostsResult> {
    const spec = this.loadSpec()
    const result = await clearHosts(spec, { sudo: !this.flags['no-sudo'], note: (line) => this.note(line) })
    if (!this.jsonEnabled()) {
      if (result.applied) this.log(`${colors.green('✔')} ${result.message}`)
      else this.warning(result.message)
    }
    return result
  }
}
