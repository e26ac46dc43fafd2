import path from 'node:path'
import { Flags } from '@oclif/core'
import { BaseCommand, colors, projectFlags } from '../../cli/index.js'
import { buildBoxImageIfUsed, exportCompose, loadForExport, boxPlanner } from '../../exporting/index.js'
import { writeFileAtomic } from '../../state/index.js'

export default class ExportCompose extends BaseCommand<typeof ExportCompose> {
  static override summary =
    'Write the envfile as a Compose file: services, images, hostnames as network aliases, ports, health, depends_on, replicas.'
  static override description =
    'The file validates against the compose-spec schema and is read unchanged by `docker compose` and docker-compose 1.29. Replicas become <service>-1 … <service>-N, the plain hostname an alias of each. Built-in boxes run images devenv builds locally; the file says how to build them. Paths are relative to the file, so write it in the project folder. Written 0600: it holds passwords. docs/export-compose.md has the whole mapping.'
  static override examples = [
    '<%= config.bin %> export compose > compose.yaml',
    '<%= config.bin %> export compose -o compose.yaml && docker compose -p myapp up -d',
    '<%= config.bin %> export compose --build-images -o compose.yaml && docker-compose up -d',
    '<%= config.bin %> export compose -f ci/devenv.yaml -o ci/compose.yaml --json',
  ]
  static override flags = {
    ...projectFlags,
    output: Flags.string({
      char: 'o',
      description: 'file to write (written aside, then renamed into place); default: stdout',
      helpValue: 'FILE',
    }),
    'build-images': Flags.boolean({
      description: "also build, on this machine's Docker engine, devenv's box image that the built-in boxes run in",
    }),
  }

  async run(): Promise<{
    file?: string
    services: string[]
    images: Array<{ image: string; buildHint: string }>
    notes: string[]
    compose?: string
  }> {
    const spec = loadForExport(this.flags.file)
    if (this.flags['build-images']) await buildBoxImageIfUsed(spec, (message) => this.note(colors.dim(message)))
    const output = this.flags.output ? path.resolve(this.flags.output) : undefined
    const result = exportCompose(spec, boxPlanner, output ? path.dirname(output) : spec.root)
    const report = { services: result.services, images: result.images, notes: result.notes }
    if (!output) {
      if (!this.jsonEnabled()) this.log(result.text.trimEnd())
      return { ...report, compose: result.text }
    }
    writeFileAtomic(output, result.text, 0o600)
    for (const note of result.notes) this.warning(note)
    this.note(`${colors.green('✔')} ${output}: ${result.services.length} service(s) for Compose`)
    return { file: output, ...report }
  }
}
