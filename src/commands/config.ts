import { stringify } from 'yaml'
import { BaseCommand, projectFlags } from '../cli/base-command.js'
import type { EnvSpec } from '../envfile/index.js'
import { maskSecrets } from '../util/secrets.js'
import { Flags } from '@oclif/core'

export default class Config extends BaseCommand<typeof Config> {
  static override summary = 'Print the resolved envfile: variables filled in, defaults applied, paths absolute.'
  static override examples = ['<%= config.bin %> config', '<%= config.bin %> config --json', '<%= config.bin %> config --show-secrets']
  static override flags = {
    ...projectFlags,
    'show-secrets': Flags.boolean({ description: 'print passwords instead of ****' }),
  }

  async run(): Promise<EnvSpec> {
    const spec = this.loadSpec()
    const shown = this.flags['show-secrets'] ? spec : maskSecrets(spec)
    if (!this.jsonEnabled()) this.log(stringify(shown).trimEnd())
    return shown
  }
}
