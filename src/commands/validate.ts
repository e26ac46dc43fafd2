import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { checkNamedPaths } from '../cli/index.js'

export default class Validate extends BaseCommand<typeof Validate> {
  static override summary =
    'Check the envfile: syntax, schema, references, and that the files it names exist. Starts nothing.'
  static override description =
    'Exits 0 when the envfile is valid, 2 with the file, line, column and field of the first problem otherwise.'
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate -f ci/devenv.yaml --json']
  static override flags = { ...projectFlags }

  async run(): Promise<{ valid: true; file: string; project: string; services: string[] }> {
    const spec = this.loadSpec()
    checkNamedPaths(spec)
    const services = Object.keys(spec.services)
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} ${spec.file} is valid: project ${colors.bold(spec.name)}, ${services.length} service(s): ${services.join(', ')}`,
      )
    return { valid: true, file: spec.file, project: spec.name, services }
  }
}
