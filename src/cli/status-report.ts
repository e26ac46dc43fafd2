import { capabilitiesOf, type Endpoint } from '../boxes/index.js'
import { runtimeFor } from '../engine/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { resolveServiceNames } from '../spec/index.js'
import type { PortState, ProjectState, ServiceState } from '../state/index.js'
import type { CommandOutput } from './command-output.js'
import { renderStatus } from './render-status.js'

type PublicPort = Omit<PortState, 'published'> & { published: NonNullable<PortState['published']> | null }
/** The `status --json` contract: every key is present; pid, startedAt and published are null when there is none. */
type PublicService = Omit<ServiceState, 'pidStart' | 'notes' | 'message' | 'ports' | 'pid' | 'startedAt'> & {
  ports: PublicPort[]
  pid: number | null
  startedAt: string | null
  message?: string
  notes?: string[]
}

export interface StatusReport {
  project: string
  root: string
  supervisor: { pid: number | null; running: boolean }
  /** Where the services run when it is an engine, not devenv's supervisor. */
  engine?: string
  services: PublicService[]
}

export interface StatusOptions {
  /** Services to show; every one when empty. */
  names: string[]
  showSecrets: boolean
  wide: boolean
}

/** `devenv status`: each service as the runtime finds it, printed for people and returned for --json. */
export async function statusReport(spec: EnvSpec, options: StatusOptions, out: CommandOutput): Promise<StatusReport> {
  const names = resolveServiceNames(spec, options.names)
  const state = onlyServices(await runtimeFor(spec).inspect(spec), names)
  const urls = (name: string): string[] =>
    capabilitiesOf(spec.services[name]!.kind).urls?.(spec, name, {
      showSecrets: options.showSecrets,
      endpoint: endpointOf(state.services[name]),
    }) ?? []
  for (const warning of state.warnings ?? []) out.warning(warning)
  if (!out.json) {
    out.log(renderStatus(state, { wide: options.wide }))
    for (const name of Object.keys(state.services)) for (const url of urls(name)) out.log(`  ${name}: ${url}`)
  }
  return {
    project: state.project,
    root: state.root,
    supervisor: { pid: state.supervisor?.pid ?? null, running: Boolean(state.supervisor) },
    ...(state.engine ? { engine: state.engine } : {}),
    services: Object.values(state.services).map(({ pidStart: _pidStart, ...service }) => ({
      ...service,
      pid: service.pid ?? null,
      startedAt: service.startedAt ?? null,
      ports: service.ports.map((port) => ({ ...port, published: port.published ?? null })),
    })),
  }
}

/** Where a service recorded as running answers, from the state just inspected (no second lookup). */
function endpointOf(service: ServiceState | undefined): Endpoint | undefined {
  if (!service || (service.state !== 'running' && service.state !== 'starting')) return undefined
  return {
    address: service.address,
    port: (declared) => service.ports.find((port) => port.port === declared)?.bound ?? declared,
  }
}

function onlyServices(state: ProjectState, names: string[]): ProjectState {
  if (names.length === 0) return state
  return {
    ...state,
    services: Object.fromEntries(Object.entries(state.services).filter(([name]) => names.includes(name))),
  }
}
