import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { Flags } from '@oclif/core'
import { hostsWriteFlags } from '../cli/index.js'
import { clearHosts } from '../hosts/index.js'
import { runtimeFor } from '../engine/index.js'
import { forgetRuntimeChoice } from '../state/index.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = "Stop every service and the project's supervisor. Data is kept."
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --json']
  static override flags = {
    ...projectFlags,
    ...hostsWriteFlags,
    'no-hosts': Flags.boolean({ description: 'leave the hosts file alone' }),
  }

  async run(): Promise<{ project: string; stopped: true; wasRunning: boolean }> {
    const spec = this.loadSpec()
    const { wasRunning } = await runtimeFor(spec).down(spec)
    forgetRuntimeChoice(spec.root)
    if (!this.flags['no-hosts']) {
      const hosts = await clearHosts(spec, { sudo: !this.flags['no-sudo'], note: (line) => this.note(line) })
      if (!hosts.applied && hosts.command) this.warning(hosts.message)
    }
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} ${spec.name} ${wasRunning ? 'is down' : 'was not running'} (data kept; \`devenv destroy\` deletes it)`,
      )
    return { project: spec.name, stopped: true, wasRunning }
  }
}
