import { Flags } from '@oclif/core'
import { BaseCommand, colors, projectFlags } from '../../cli/index.js'
import { loadForExport, undeploySwarm } from '../../exporting/index.js'

export default class UndeploySwarm extends BaseCommand<typeof UndeploySwarm> {
  static override summary =
    "Remove the project's stack from the Docker Swarm, and wait until none of its containers or networks is left."
  static override description = 'Volumes are kept (remove them with docker volume rm); images too.'
  static override examples = [
    '<%= config.bin %> undeploy swarm',
    '<%= config.bin %> undeploy swarm --context staging --json',
  ]
  static override flags = {
    ...projectFlags,
    context: Flags.string({
      description: 'docker context of a Swarm manager (default: the current one)',
      helpValue: 'NAME',
    }),
  }

  async run(): Promise<{ stack: string; removed: string[] }> {
    const spec = loadForExport(this.flags.file)
    const result = await undeploySwarm(spec, this.flags.context ? { context: this.flags.context } : {})
    this.note(
      result.removed.length > 0
        ? `${colors.green('✔')} stack ${result.stack} removed (${result.removed.join(', ')})`
        : `stack ${result.stack} was not deployed`,
    )
    return result
  }
}
