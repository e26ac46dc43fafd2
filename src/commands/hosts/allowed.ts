import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { allowedFile, readAllowedHostnames } from '../../names/index.js'
import { SPECIAL_USE_SUFFIXES } from '../../names/index.js'

export default class HostsAllowed extends BaseCommand<typeof HostsAllowed> {
  static override summary = 'List the hostnames envfiles may claim on this machine.'
  static override examples = ['<%= config.bin %> hosts allowed', '<%= config.bin %> hosts allowed --json']

  async run(): Promise<{ specialUse: string[]; allowed: string[]; file: string }> {
    const allowed = readAllowedHostnames()
    const specialUse = SPECIAL_USE_SUFFIXES.map((suffix) => `*.${suffix}`)
    if (!this.jsonEnabled()) {
      this.log(`always: ${specialUse.join(' ')}`)
      this.log(
        allowed.length > 0
          ? `allowed here: ${allowed.join(' ')}`
          : colors.dim('allowed here: none (devenv hosts allow NAME)'),
      )
    }
    return { specialUse, allowed, file: allowedFile() }
  }
}
