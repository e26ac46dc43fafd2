import { Args, Flags } from '@oclif/core'
import { BaseCommand, longFileFlag } from '../cli/index.js'
import { followUntilInterrupted, logPrinter } from '../cli/index.js'
import { resolveServiceNames } from '../spec/index.js'
import { DevenvError } from '../errors.js'
import { runtimeFor } from '../engine/index.js'
import type { ServiceLogLine } from '../runtime/index.js'
import { parseDuration } from '../util/duration.js'

export default class Logs extends BaseCommand<typeof Logs> {
  static override summary = "Show the services' logs (all, or the named ones), with what devenv did to them."
  static override examples = [
    '<%= config.bin %> logs',
    '<%= config.bin %> logs www1 -f',
    '<%= config.bin %> logs psql -n 50 --since 10m',
    '<%= config.bin %> logs --since 2026-11-23T18:00:00Z --json',
  ]
  static override strict = false
  static override args = { services: Args.string({ description: 'services (default: all)' }) }
  static override flags = {
    ...longFileFlag,
    follow: Flags.boolean({
      char: 'f',
      description: 'keep printing new lines as they come (Ctrl-C to stop)',
      exclusive: ['json'],
    }),
    lines: Flags.integer({ char: 'n', description: 'lines per service to show', default: 100, min: 0 }),
    since: Flags.string({ description: 'only lines since a duration ago (10m, 2h) or a time (ISO 8601)' }),
    timestamps: Flags.boolean({ char: 't', description: "show each line's time" }),
  }

  async run(): Promise<{ lines: ServiceLogLine[] }> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Logs)
    const names = resolveServiceNames(spec, (argv as string[]).length ? (argv as string[]) : Object.keys(spec.services))
    const since = this.flags.since ? parseSince(this.flags.since) : undefined
    const runtime = runtimeFor(spec)
    // -n 0 shows no past line (with -f: only what comes next), as tail -n 0 and docker logs -n 0
    const lines =
      this.flags.lines === 0
        ? []
        : await runtime.logs(spec, names, { tail: this.flags.lines, ...(since ? { since } : {}) })
    if (this.jsonEnabled()) return { lines }
    const print = logPrinter(names, { timestamps: this.flags.timestamps })
    lines.forEach(print)
    if (this.flags.follow) await followUntilInterrupted(runtime, spec, names, print)
    return { lines }
  }
}

function parseSince(value: string): Date {
  try {
    return new Date(Date.now() - parseDuration(value))
  } catch {
    const time = new Date(value)
    if (Number.isNaN(time.getTime()))
      throw new DevenvError(
        'USAGE',
        `--since ${value} is neither a duration (10m, 2h) nor a time (2026-11-23T18:00:00Z)`,
      )
    return time
  }
}
