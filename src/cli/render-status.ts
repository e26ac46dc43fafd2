import type { ProjectState, ServiceState } from '../state/index.js'
import { colors, stateColor, table, visibleLength } from './output.js'

export function portsText(service: ServiceState): string {
  return service.ports
    .map((port) => {
      const bound = port.bound === port.port ? `${port.port}` : `${port.port}→${port.bound}`
      return port.published ? `${bound} (${port.published.address}:${port.published.port})` : bound
    })
    .join(', ')
}

/**
 * The services as a table. On a terminal narrower than the table, the hostnames column (the
 * widest, and the one least needed at a glance) shows the first hostname and how many more;
 * `wide` (status --wide, and any output that is not a terminal) keeps every hostname.
 */
export function renderServices(services: ServiceState[], options: { wide?: boolean } = {}): string {
  const full = servicesTable(services, (names) => names.join(', '))
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined
  if (options.wide || !columns || widest(full) <= columns) return full
  // What the other columns leave (the header HOSTNAMES is 9 wide), never less than the header
  const budget = Math.max(HEADER_WIDTH, columns - (widest(servicesTable(services, () => '')) - HEADER_WIDTH))
  return servicesTable(services, (names) =>
    fit(names.length > 1 ? `${names[0]} +${names.length - 1}` : (names[0] ?? ''), budget),
  )
}

const HEADER_WIDTH = 'HOSTNAMES'.length

function fit(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`
}

function widest(text: string): number {
  return Math.max(...text.split('\n').map(visibleLength))
}

function servicesTable(services: ServiceState[], hostnames: (names: string[]) => string): string {
  return table(
    ['SERVICE', 'BOX', 'STATE', 'HEALTH', 'ADDRESS', 'PORTS', 'HOSTNAMES', 'RESTARTS'],
    services.map((service) => [
      colors.bold(service.name),
      service.box,
      stateColor(service.state),
      stateColor(service.health),
      service.address || '-',
      portsText(service) || '-',
      hostnames(service.hostnames) || '-',
      String(service.restarts),
    ]),
  )
}

export function renderStatus(state: ProjectState, options: { wide?: boolean } = {}): string {
  const supervisor = state.engine
    ? state.engine
    : state.supervisor
      ? `supervisor pid ${state.supervisor.pid}`
      : colors.dim('supervisor not running')
  const lines = [
    `${colors.bold(state.project)} ${colors.dim(state.root)} · ${supervisor}`,
    renderServices(Object.values(state.services), options),
  ]
  for (const service of Object.values(state.services)) {
    if (service.message && (service.state === 'failed' || service.health === 'unhealthy'))
      lines.push(`${colors.red('✖')} ${service.name}: ${service.message}`)
    for (const note of service.notes ?? []) lines.push(`${colors.yellow('!')} ${service.name}: ${note}`)
    if (service.mounts === 'resolved')
      lines.push(colors.dim(`· ${service.name}: mounts are read from their host paths (no mount namespace)`))
  }
  return lines.join('\n')
}
