import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { withServiceProgress } from '../cli/index.js'
import { resolveServiceNames } from '../spec/index.js'
import { DevenvError } from '../errors.js'
import { runtimeFor } from '../engine/index.js'
import type { UpResult } from '../runtime/index.js'

export default class Build extends BaseCommand<typeof Build> {
  static override summary =
    'Run the build step of services (all that declare one, or the named ones), even when nothing changed.'
  static override examples = ['<%= config.bin %> build', '<%= config.bin %> build www1']
  static override strict = false
  static override args = { services: Args.string({ description: 'services to build (default: all with a build)' }) }
  static override flags = { ...projectFlags }

  async run(): Promise<UpResult> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Build)
    const names = resolveServiceNames(spec, argv as string[])
    const targets = (names.length ? names : Object.keys(spec.services)).filter((name) => spec.services[name]!.build)
    if (targets.length === 0) {
      this.note('no service declares a build step')
      return { ok: true, services: [] }
    }
    const runtime = runtimeFor(spec)
    const result = await withServiceProgress(targets, this.jsonEnabled(), (onEvent) =>
      runtime.build(spec, targets, onEvent),
    )
    if (!result.ok && result.failed && !this.jsonEnabled()) {
      throw new DevenvError('BUILD_FAILED', result.failed.message, {
        details: result.failed.lastLines.map((line) => colors.dim(line)),
      })
    }
    if (!result.ok) process.exitCode = 1
    return result
  }
}
