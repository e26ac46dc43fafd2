import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { followUntilInterrupted, logPrinter } from '../cli/index.js'
import { failureHeadline } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { withServiceProgress } from '../cli/index.js'
import { renderServices } from '../cli/index.js'
import { withDependencies } from '../spec/index.js'
import { DevenvError } from '../errors.js'
import { hostsWriteFlags } from '../cli/index.js'
import { syncHosts } from '../hosts/index.js'
import { assertIntegrity } from '../integrity/index.js'
import { projectActivity, runningElsewhere, runtimeFor } from '../engine/index.js'
import type { UpResult } from '../runtime/index.js'
import { rememberProject, writeRuntimeChoice } from '../state/index.js'

export default class Up extends BaseCommand<typeof Up> {
  static override summary = 'Build and start the services (all, or the named ones and what they depend on).'
  static override description =
    "Exits 0 when every started service is ready (healthy, or started when it has no health check), 1 otherwise with the failing service's last log lines."
  static override examples = [
    '<%= config.bin %> up',
    '<%= config.bin %> up www1 psql',
    '<%= config.bin %> up --json',
    '<%= config.bin %> up --recreate',
    '<%= config.bin %> up --attach',
    '<%= config.bin %> up --runtime docker',
  ]
  static override strict = false
  static override args = { services: Args.string({ description: 'services to start (default: all)' }) }
  static override flags = {
    ...projectFlags,
    ...hostsWriteFlags,
    recreate: Flags.boolean({ description: 'restart services even when their definition did not change' }),
    attach: Flags.boolean({
      char: 'a',
      description: "stay attached: print the services' logs until Ctrl-C, then stop them",
      exclusive: ['json'],
    }),
    'no-hosts': Flags.boolean({ description: "do not write the services' hostnames into the hosts file" }),
    'skip-verify': Flags.boolean({ description: 'start even if files differ from devenv.lock (not recommended)' }),
    runtime: Flags.string({
      description: "run on this runtime instead of the envfile's `runtime:` (remembered until `devenv down`)",
      options: ['bundled', 'docker'],
    }),
  }

  async run(): Promise<UpResult> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Up)
    const names = argv as string[]
    const targets = withDependencies(spec, names)
    if (this.flags['skip-verify']) {
      this.warning(
        '--skip-verify: NOT checking files against devenv.lock; services may start with changed configuration',
      )
    } else {
      await assertIntegrity(spec, targets)
    }
    const elsewhere = runningElsewhere(spec)
    if (elsewhere) {
      throw new DevenvError(
        'USAGE',
        `${spec.name} runs on the ${elsewhere.provider} runtime now (${elsewhere.detail ?? 'running'}), not on ${spec.runtime}`,
        {
          hint: `Stop it there first: \`devenv down\`${elsewhere.provider === 'bundled' ? '' : ' (it remembers the runtime)'}, then \`devenv up${spec.runtime === 'docker' ? ' --runtime docker' : ''}\`.`,
        },
      )
    }
    const runtime = runtimeFor(spec)
    if (!this.flags['no-hosts']) {
      const addresses = await runtime.addresses(spec, Object.keys(spec.services))
      const hosts = await syncHosts(spec, addresses, {
        sudo: !this.flags['no-sudo'],
        note: (line) => this.note(line),
        isRunning: (root) => projectActivity(root).active,
      })
      if (!hosts.applied && hosts.command) this.warning(hosts.message)
    }
    await rememberProject({ name: spec.name, root: spec.root, envfile: spec.file })
    if (this.flags.runtime) writeRuntimeChoice(spec.root, spec.runtime)
    const result = await withServiceProgress(targets, this.jsonEnabled(), (onEvent) =>
      runtime.up(spec, { services: names, ...(this.flags.recreate ? { recreate: true } : {}) }, onEvent),
    )
    if (!this.jsonEnabled()) {
      this.log(renderServices(result.services))
      for (const service of result.services)
        for (const note of service.notes ?? []) this.warning(`${service.name}: ${note}`)
    }
    if (!result.ok && result.failed) {
      if (this.jsonEnabled()) {
        process.exitCode = 1
        return result
      }
      throw new DevenvError('SERVICE_FAILED', failureHeadline(result), {
        details: result.failed.lastLines.map((line) => colors.dim(line)),
        hint: `See \`devenv logs ${result.failed.service}\` for the whole log.`,
      })
    }
    if (this.flags.attach) {
      this.note(colors.dim('attached: Ctrl-C stops the services (`devenv up` without --attach leaves them running)'))
      await followUntilInterrupted(runtime, spec, targets, logPrinter(targets))
      this.note('stopping…')
      await runtime.stop(spec, targets)
    }
    return result
  }
}
