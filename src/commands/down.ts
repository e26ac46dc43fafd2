import { BaseCommand, projectFlags } from '../cli/base-command.js'
import { colors } from '../cli/output.js'
import { runtimeFor } from '../runtime/index.js'

export default class Down extends BaseCommand<typeof Down> {
  static override summary = 'Stop every service and the project\'s supervisor. Data is kept.'
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --json']
  static override flags = { ...projectFlags }

  async run(): Promise<{ project: string; stopped: true }> {
    const spec = this.loadSpec()
    await runtimeFor(spec).down(spec)
    if (!this.jsonEnabled()) this.log(`${colors.green('✔')} ${spec.name} is down (data kept; \`devenv destroy\` deletes it)`)
    return { project: spec.name, stopped: true }
  }
}
