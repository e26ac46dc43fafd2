import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { allowedFile, changeAllowedHostname } from '../../names/index.js'

export default class HostsDisallow extends BaseCommand<typeof HostsDisallow> {
  static override summary = 'Take back the consent given with `devenv hosts allow`.'
  static override examples = ['<%= config.bin %> hosts disallow app.mycompany.dev']
  static override args = { hostname: Args.string({ description: 'NAME or *.DOMAIN, as allowed', required: true }) }

  async run(): Promise<{ hostnames: string[]; changed: boolean; file: string }> {
    const result = await changeAllowedHostname(this.args.hostname, false)
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} ${result.changed ? 'no longer allowed' : 'was not allowed'}: ${this.args.hostname.toLowerCase()}`,
      )
    return { ...result, file: allowedFile() }
  }
}
