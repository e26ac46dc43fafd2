import { Args, Flags } from '@oclif/core'
import type { Endpoint } from '../boxes/index.js'
import { capabilitiesOf } from '../boxes/index.js'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { renderStatus, table } from '../cli/index.js'
import { loadForExport, stackServices, type SwarmService } from '../exporting/index.js'
import { runtimeFor } from '../engine/index.js'
import { resolveServiceNames } from '../spec/index.js'
import type { PortState, ProjectState, ServiceState } from '../state/index.js'

type PublicPort = Omit<PortState, 'published'> & { published: NonNullable<PortState['published']> | null }
/** The `status --json` contract: every key is present; pid, startedAt and published are null when there is none. */
type PublicService = Omit<ServiceState, 'pidStart' | 'notes' | 'message' | 'ports' | 'pid' | 'startedAt'> & {
  ports: PublicPort[]
  pid: number | null
  startedAt: string | null
  message?: string
  notes?: string[]
}

/** Where a service recorded as running answers, from the state just inspected (no second lookup). */
function endpointOf(service: ServiceState | undefined): Endpoint | undefined {
  if (!service || (service.state !== 'running' && service.state !== 'starting')) return undefined
  return {
    address: service.address,
    port: (declared) => service.ports.find((port) => port.port === declared)?.bound ?? declared,
  }
}

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

  async run(): Promise<
    | {
        project: string
        root: string
        supervisor: { pid: number | null; running: boolean }
        services: PublicService[]
      }
    | { project: string; target: 'swarm'; services: SwarmService[] }
  > {
    if (this.flags.target === 'swarm') return this.swarm()
    const spec = this.loadSpec()
    const { argv } = await this.parse(Status)
    const names = resolveServiceNames(spec, argv as string[])
    const runtime = runtimeFor(spec)
    const state: ProjectState = onlyServices(await runtime.inspect(spec), names)
    const showSecrets = this.flags['show-secrets']
    const urls = (name: string): string[] =>
      capabilitiesOf(spec.services[name]!.kind).urls?.(spec, name, {
        showSecrets,
        endpoint: endpointOf(state.services[name]),
      }) ?? []
    for (const warning of state.warnings ?? []) this.warning(warning)
    if (!this.jsonEnabled()) {
      this.log(renderStatus(state, { wide: this.flags.wide }))
      for (const name of Object.keys(state.services)) for (const url of urls(name)) this.log(`  ${name}: ${url}`)
    }
    return {
      project: state.project,
      root: state.root,
      supervisor: { pid: state.supervisor?.pid ?? null, running: Boolean(state.supervisor) },
      services: Object.values(state.services).map(({ pidStart: _pidStart, ...service }) => ({
        ...service,
        pid: service.pid ?? null,
        startedAt: service.startedAt ?? null,
        ports: service.ports.map((port) => ({ ...port, published: port.published ?? null })),
      })),
    }
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

function onlyServices(state: ProjectState, names: string[]): ProjectState {
  if (names.length === 0) return state
  return {
    ...state,
    services: Object.fromEntries(Object.entries(state.services).filter(([name]) => names.includes(name))),
  }
}
