import type { ServiceSpec } from '../envfile/index.js'
import { DEFAULT_HEALTH_TIMING } from '../util/health-timing.js'

/** What the image config says about ports and health, as far as a service's ports follow from it. */
export interface ImagePortFacts {
  /** The config's ExposedPorts keys: "8080/tcp", "53/udp", "9000" (tcp). */
  exposed: string[]
  /** Does the image declare a Healthcheck (other than NONE)? */
  healthcheck: boolean
}

/**
 * An image service whose envfile gives no `ports:` takes its image's ExposedPorts, as `docker run
 * -P` would publish them: they are its ports (listened at its address, PORT, status), and when
 * neither the envfile nor the image declares a check, the first is probed over tcp, as declared
 * ports are. Ports in the envfile win. Only tcp is relayed: other protocols are said in `notes`.
 */
export function withImagePorts(service: ServiceSpec, facts: ImagePortFacts): { service: ServiceSpec; notes: string[] } {
  if (!service.image || service.ports.length) return { service, notes: [] }
  const notes: string[] = []
  const ports: number[] = []
  for (const key of facts.exposed) {
    const [number, protocol = 'tcp'] = key.toLowerCase().split('/')
    const port = Number(number)
    if (!Number.isInteger(port) || port < 1 || port > 65_535) {
      notes.push(`the image exposes "${key}", which is not a port: ignored`)
      continue
    }
    if (protocol !== 'tcp') {
      notes.push(`the image exposes ${port}/${protocol}: only tcp ports are listened at the service's address`)
      continue
    }
    if (!ports.includes(port)) ports.push(port)
  }
  if (!ports.length) return { service, notes }
  ports.sort((a, b) => a - b)
  notes.push(`ports ${ports.join(', ')} from the image's ExposedPorts (the envfile gives none)`)
  const defaultHealth = !service.health && !service.healthOff && !facts.healthcheck
  return {
    service: {
      ...service,
      ports,
      ...(defaultHealth ? { health: { check: { kind: 'tcp', port: ports[0]! }, ...DEFAULT_HEALTH_TIMING } } : {}),
    },
    notes,
  }
}
