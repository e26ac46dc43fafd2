import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags, statusReport, table, type StatusReport } from '../cli/index.js'
import { loadForExport, stackServices, type SwarmService } from '../exporting/index.js'

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show each service: state, health, address, ports, hostnames.'
  static override aliases = ['ps']
  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status www1 db',
    '<%= config.bin %> ps',
    '<%= config.bin %> status --show-secrets',
    '<%= config.bin %> status --json | jq \'.services[] | select(.health != "healthy")\'',
  ]
  static override strict = false
  static override args = { services: Args.string({ description: 'services to show (default: all)' }) }
  static override flags = {
    ...projectFlags,
    'show-secrets': Flags.boolean({ description: 'show passwords in database connection URLs' }),
    wide: Flags.boolean({
      char: 'w',
      description: 'every hostname, however wide the table (the default when output is not a terminal)',
    }),
    target: Flags.string({
      description: 'what to show: the services on this machine, or the stack `devenv deploy swarm` made',
      options: ['local', 'swarm'],
      default: 'local',
    }),
    context: Flags.string({ description: 'with --target swarm: docker context of a Swarm manager', helpValue: 'NAME' }),
  }

  async run(): Promise<StatusReport | { project: string; target: 'swarm'; services: SwarmService[] }> {
    if (this.flags.target === 'swarm') return this.swarm()
    const spec = this.loadSpec()
    const { argv } = await this.parse(Status)
    const options = { names: argv as string[], showSecrets: this.flags['show-secrets'], wide: this.flags.wide }
    return statusReport(spec, options, this.output())
  }

  /** The stack as Swarm reports it: each service's running and desired replicas. */
  private async swarm(): Promise<{ project: string; target: 'swarm'; services: SwarmService[] }> {
    const spec = loadForExport(this.flags.file)
    const services = await stackServices(spec, this.flags.context ? { context: this.flags.context } : {})
    if (!this.jsonEnabled()) {
      if (services.length === 0) this.log(`stack ${spec.name} is not deployed on the Swarm`)
      else
        this.log(
          table(
            ['SERVICE', 'REPLICAS', 'IMAGE', 'PORTS'],
            services.map((service) => [
              service.name,
              `${service.running}/${service.desired}`,
              service.image,
              service.ports,
            ]),
          ),
        )
    }
    return { project: spec.name, target: 'swarm', services }
  }
}
