import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { allowedFile, changeAllowedHostname } from '../../names/index.js'

export default class HostsAllow extends BaseCommand<typeof HostsAllow> {
  static override summary = 'Allow envfiles on this machine to claim a hostname that is not a special-use name.'
  static override description =
    'By default an envfile may only claim names under .test, .example, .invalid, .localhost, .internal and .home.arpa: any other name would be pointed at the project for every program on this machine, and vouched for by the local CA. This records your consent for NAME (or every name under a domain, with "*.domain") in the machine home, never in a project. The local CA is made again to include it (run `devenv tls trust` again).'
  static override examples = [
    '<%= config.bin %> hosts allow app.mycompany.dev',
    '<%= config.bin %> hosts allow "*.mycompany.dev"',
  ]
  static override args = { hostname: Args.string({ description: 'NAME or *.DOMAIN', required: true }) }

  async run(): Promise<{ hostnames: string[]; changed: boolean; file: string }> {
    const result = await changeAllowedHostname(this.args.hostname, true)
    if (!this.jsonEnabled()) {
      this.log(
        `${colors.green('✔')} ${result.changed ? 'allowed' : 'already allowed'}: ${this.args.hostname.toLowerCase()} (${allowedFile()})`,
      )
      if (result.changed)
        this.note(
          '  The local CA is limited to the names it may sign; the next certificate makes a new one that includes this name: run `devenv tls trust` again then.',
        )
    }
    return { ...result, file: allowedFile() }
  }
}
