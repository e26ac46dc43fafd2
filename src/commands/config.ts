import { stringify } from 'yaml'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { envfileView } from '../cli/index.js'
import { maskSecrets } from '../util/secrets.js'
import { Flags } from '@oclif/core'

export default class Config extends BaseCommand<typeof Config> {
  static override summary = 'Print the resolved envfile: variables filled in, defaults written out, paths absolute.'
  static override description =
    "In the envfile's own vocabulary (as `docker compose config`), so the output loads back as the same project: `devenv config --show-secrets > resolved.yaml`."
  static override examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config --json',
    '<%= config.bin %> config --show-secrets > resolved.yaml',
  ]
  static override flags = {
    ...projectFlags,
    'show-secrets': Flags.boolean({ description: 'print passwords instead of ****' }),
  }

  async run(): Promise<Record<string, unknown>> {
    const spec = this.loadSpec()
    const shown = envfileView(this.flags['show-secrets'] ? spec : maskSecrets(spec))
    if (!this.jsonEnabled()) this.log(stringify(shown).trimEnd())
    return shown
  }
}
