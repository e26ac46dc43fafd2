import { BaseCommand } from '../../cli/base-command.js'
import { colors } from '../../cli/output.js'
import { allowedFile, readAllowedHostnames } from '../../hosts/allowed.js'
import { SPECIAL_USE_SUFFIXES } from '../../hosts/policy.js'

export default class HostsAllowed extends BaseCommand<typeof HostsAllowed> {
  static override summary = 'List the hostnames envfiles may claim on this machine.'
  static override examples = ['<%= config.bin %> hosts allowed', '<%= config.bin %> hosts allowed --json']

  async run(): Promise<{ specialUse: string[]; allowed: string[]; file: string }> {
    const allowed = readAllowedHostnames()
    const specialUse = SPECIAL_USE_SUFFIXES.map((suffix) => `*.${suffix}`)
    if (!this.jsonEnabled()) {
      this.log(`always: ${specialUse.join(' ')}`)
      this.log(allowed.length > 0 ? `allowed here: ${allowed.join(' ')}` : colors.dim('allowed here: none (devenv hosts allow NAME)'))
    }
    return { specialUse, allowed, file: allowedFile() }
  }
}
