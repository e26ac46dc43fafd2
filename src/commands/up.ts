import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/base-command.js'
import { colors } from '../cli/output.js'
import { withServiceProgress } from '../cli/progress.js'
import { renderServices } from '../cli/render-status.js'
import { withDependencies } from '../engine/graph.js'
import { DevenvError } from '../errors.js'
import { runtimeFor, type UpResult } from '../runtime/index.js'
import { rememberProject } from '../state/projects.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Build and start the services (all, or the named ones and what they depend on).'
  static override description = 'Exits 0 when every started service is ready (healthy, or started when it has no health check), 1 otherwise with the failing service\'s last log lines.'
  static override examples = ['<%= config.bin %> up', '<%= config.bin %> up www1 psql', '<%= config.bin %> up --json', '<%= config.bin %> up --recreate']
  static override strict = false
  static override args = { services: Args.string({ description: 'services to start (default: all)' }) }
  static override flags = {
    ...projectFlags,
    recreate: Flags.boolean({ description: 'restart services even when their definition did not change' }),
  }

  async run(): Promise<UpResult> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Up)
    const names = argv as string[]
    const targets = withDependencies(spec, names)
    await rememberProject({ name: spec.name, root: spec.root, envfile: spec.file })
    const runtime = runtimeFor(spec)
    const result = await withServiceProgress(targets, this.jsonEnabled(), (onEvent) =>
      runtime.up(spec, { services: names, ...(this.flags.recreate ? { recreate: true } : {}) }, onEvent),
    )
    if (!this.jsonEnabled()) {
      this.log(renderServices(result.services))
      for (const service of result.services) for (const note of service.notes ?? []) this.warning(`${service.name}: ${note}`)
    }
    if (!result.ok && result.failed) {
      if (this.jsonEnabled()) {
        process.exitCode = 1
        return result
      }
      throw new DevenvError('SERVICE_FAILED', result.failed.message, {
        details: result.failed.lastLines.map((line) => colors.dim(line)),
        hint: `See \`devenv logs ${result.failed.service}\` for the whole log.`,
      })
    }
    return result
  }
}
