import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { hostsWriteFlags } from '../../cli/index.js'
import { syncHosts, type HostsResult } from '../../hosts/index.js'
import { projectActivity, runtimeFor } from '../../engine/index.js'

export default class HostsApply extends BaseCommand<typeof HostsApply> {
  static override summary = "Map every service's hostnames to its address in the hosts file."
  static override description =
    "Writes the project's block (atomically, under a lock) and leaves every other line as it was. When the file is not writable, asks sudo for that one write, or with --no-sudo (or no terminal) prints the command to run."
  static override examples = [
    '<%= config.bin %> hosts apply',
    '<%= config.bin %> hosts apply --no-sudo --json',
    'DEVENV_HOSTS_FILE=/tmp/hosts <%= config.bin %> hosts apply',
  ]
  static override flags = { ...projectFlags, ...hostsWriteFlags }

  async run(): Promise<HostsResult> {
    const spec = this.loadSpec()
    const addresses = await runtimeFor(spec).addresses(spec, Object.keys(spec.services))
    const result = await syncHosts(spec, addresses, {
      sudo: !this.flags['no-sudo'],
      note: (line) => this.note(line),
      isRunning: (root) => projectActivity(root).active,
    })
    if (!this.jsonEnabled()) {
      if (result.applied) this.log(`${colors.green('✔')} ${result.message}`)
      else this.warning(result.message)
    }
    return result
  }
}
