import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { renderServices } from '../cli/index.js'
import { resolveServiceNames } from '../spec/index.js'
import { runtimeFor } from '../engine/index.js'
import type { ServiceState } from '../state/index.js'

export default class Stop extends BaseCommand<typeof Stop> {
  static override summary = 'Stop services (all, or the named ones); the supervisor and data stay.'
  static override aliases = ['halt']
  static override examples = [
    '<%= config.bin %> stop',
    '<%= config.bin %> stop www1',
    '<%= config.bin %> halt www1 www2',
  ]
  static override strict = false
  static override args = { services: Args.string({ description: 'services to stop (default: all)' }) }
  static override flags = { ...projectFlags }

  async run(): Promise<{ services: ServiceState[] }> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Stop)
    const names = resolveServiceNames(spec, argv as string[])
    const services = await runtimeFor(spec).stop(spec, names)
    if (!this.jsonEnabled()) this.log(renderServices(services))
    return { services }
  }
}
