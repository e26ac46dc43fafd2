import type { EnvSpec, ServiceSpec } from '../envfile/index.js'
import { DevenvError, usage } from '../errors.js'
import type { ServiceState } from '../state/index.js'

/** The service `devenv open` means when none is named: the project's balancer, else its only web service. */
export function defaultWebService(spec: EnvSpec): string {
  const services = Object.values(spec.services)
  const balancers = services.filter((service) => service.kind === 'lb')
  if (balancers.length === 1) return balancers[0]!.name
  const web = services.filter((service) => webPort(service) !== undefined)
  if (balancers.length === 0 && web.length === 1) return web[0]!.name
  const candidates = (balancers.length ? balancers : web).map((service) => service.name)
  throw usage(
    candidates.length
      ? `name the service to open: ${candidates.join(', ')}`
      : `${spec.file} declares no service with a web page`,
    'e.g. devenv open www1',
  )
}

/**
 * The URL a browser opens for a running service: https when the balancer has TLS, its first
 * hostname (else its address), and the port it is bound to unless it is the scheme's default.
 */
export function serviceUrl(service: ServiceSpec, state: ServiceState | undefined): string {
  const declared = webPort(service, state)
  if (declared === undefined)
    throw usage(
      `service ${service.name} is a ${service.kind} box: it has no web page to open`,
      `\`devenv status ${service.name}\` shows its address and ports.`,
    )
  if (!state || (state.state !== 'running' && state.state !== 'starting')) {
    throw new DevenvError('NOT_FOUND', `service ${service.name} is not running`, {
      hint: `Start it with \`devenv up ${service.name}\`.`,
    })
  }
  const scheme = service.kind === 'lb' && service.lb?.httpsPort !== undefined ? 'https' : 'http'
  const port = state.ports.find((entry) => entry.port === declared)?.bound ?? declared
  const host = state.hostnames[0] ?? state.address
  const defaultPort = scheme === 'https' ? 443 : 80
  return `${scheme}://${host}${port === defaultPort ? '' : `:${port}`}/`
}

/** `state`: an image service may listen on its image's ExposedPorts, known once it runs. */
function webPort(service: ServiceSpec, state?: ServiceState): number | undefined {
  switch (service.kind) {
    case 'lb':
      return service.lb?.httpsPort ?? service.lb?.httpPort
    case 'mail':
      return service.mail?.webPort
    case 'postgres':
    case 'ftp':
      return undefined
    default:
      return service.ports[0] ?? (service.image ? state?.ports[0]?.port : undefined)
  }
}
