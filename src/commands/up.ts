import { Args, Flags } from '@oclif/core'
import { BaseCommand, bringUp, hostsWriteFlags, projectFlags } from '../cli/index.js'
import type { UpResult } from '../runtime/index.js'

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
    const options = {
      names: argv as string[],
      recreate: this.flags.recreate,
      attach: this.flags.attach,
      keepHosts: this.flags['no-hosts'],
      noSudo: this.flags['no-sudo'],
      skipVerify: this.flags['skip-verify'],
      ...(this.flags.runtime ? { runtime: this.flags.runtime as 'bundled' | 'docker' } : {}),
    }
    return bringUp(spec, options, this.output())
  }
}
