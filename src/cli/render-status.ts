import type { ProjectState, ServiceState } from '../state/project-state.js'
import { colors, stateColor, table } from './output.js'

export function portsText(service: ServiceState): string {
  return service.ports
    .map((port) => {
      const bound = port.bound === port.port ? `${port.port}` : `${port.port}→${port.bound}`
      return port.published ? `${bound} (${port.published.address}:${port.published.port})` : bound
    })
    .join(', ')
}

export function renderServices(services: ServiceState[]): string {
  return table(
    ['SERVICE', 'BOX', 'STATE', 'HEALTH', 'ADDRESS', 'PORTS', 'HOSTNAMES', 'RESTARTS'],
    services.map((service) => [
      colors.bold(service.name),
      service.box,
      stateColor(service.state),
      stateColor(service.health),
      service.address || '-',
      portsText(service) || '-',
      service.hostnames.join(', ') || '-',
      String(service.restarts),
    ]),
  )
}

export function renderStatus(state: ProjectState): string {
  const supervisor = state.supervisor ? `supervisor pid ${state.supervisor.pid}` : colors.dim('supervisor not running')
  const lines = [`${colors.bold(state.project)} ${colors.dim(state.root)} · ${supervisor}`, renderServices(Object.values(state.services))]
  for (const service of Object.values(state.services)) {
    if (service.message && (service.state === 'failed' || service.health === 'unhealthy')) lines.push(`${colors.red('✖')} ${service.name}: ${service.message}`)
    for (const note of service.notes ?? []) lines.push(`${colors.yellow('!')} ${service.name}: ${note}`)
    if (service.mounts === 'resolved') lines.push(colors.dim(`· ${service.name}: mounts are read from their host paths (no mount namespace)`))
  }
  return lines.join('\n')
}
