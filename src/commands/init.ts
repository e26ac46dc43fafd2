import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/index.js'
import { colors, table } from '../cli/index.js'
import { initFromTemplate, listTemplates, type InitResult, type TemplateInfo } from '../templates/index.js'

export default class Init extends BaseCommand<typeof Init> {
  static override summary = "Create a devenv.yaml (and the template's files) in this folder."
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --template webapp',
    '<%= config.bin %> init --template webapp --force',
    '<%= config.bin %> init --list',
  ]
  static override flags = {
    template: Flags.string({ char: 't', description: 'template to start from', default: 'minimal', helpValue: 'NAME' }),
    force: Flags.boolean({ description: 'overwrite files that already exist' }),
    name: Flags.string({ description: 'project name (default: the folder name)' }),
    list: Flags.boolean({ description: 'list the templates', exclusive: ['force', 'name'] }),
  }

  async run(): Promise<InitResult | { templates: TemplateInfo[] }> {
    if (this.flags.list) {
      const templates = listTemplates()
      if (!this.jsonEnabled())
        this.log(
          table(
            ['TEMPLATE', 'DESCRIPTION'],
            templates.map((info) => [info.name, info.description]),
          ),
        )
      return { templates }
    }
    const result = initFromTemplate(process.cwd(), this.flags.template, {
      ...(this.flags.force ? { force: true } : {}),
      ...(this.flags.name ? { name: this.flags.name } : {}),
    })
    if (!this.jsonEnabled()) {
      this.log(
        `${colors.green('✔')} wrote devenv.yaml from template ${colors.bold(result.template)} (${result.files.length} files)`,
      )
      this.log(`  next: ${colors.cyan('devenv up')}`)
    }
    return result
  }
}
