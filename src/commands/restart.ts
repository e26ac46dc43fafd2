import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { failureHeadline } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { withServiceProgress } from '../cli/index.js'
import { renderServices } from '../cli/index.js'
import { resolveServiceNames } from '../spec/index.js'
import { DevenvError } from '../errors.js'
import { runtimeFor } from '../engine/index.js'
import type { UpResult } from '../runtime/index.js'

export default class Restart extends BaseCommand<typeof Restart> {
  static override summary = 'Restart services (all, or the named ones) and wait until they are ready.'
  static override examples = ['<%= config.bin %> restart', '<%= config.bin %> restart www1']
  static override strict = false
  static override args = { services: Args.string({ description: 'services to restart (default: all)' }) }
  static override flags = { ...projectFlags }

  async run(): Promise<UpResult> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Restart)
    const names = resolveServiceNames(spec, (argv as string[]).length ? (argv as string[]) : Object.keys(spec.services))
    const runtime = runtimeFor(spec)
    const result = await withServiceProgress(names, this.jsonEnabled(), (onEvent) =>
      runtime.restart(spec, names, onEvent),
    )
    if (!this.jsonEnabled()) this.log(renderServices(result.services))
    if (!result.ok && result.failed && !this.jsonEnabled()) {
      throw new DevenvError('SERVICE_FAILED', failureHeadline(result), {
        details: result.failed.lastLines.map((line) => colors.dim(line)),
      })
    }
    if (!result.ok) process.exitCode = 1
    return result
  }
}
