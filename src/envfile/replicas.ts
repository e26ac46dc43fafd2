import { DevenvError } from '../errors.js'
import { describeBox } from './box-catalog.js'
import type { EnvSpec, ServiceSpec } from './model.js'
import type { RawEnvfile } from './raw.js'
import type { EnvfileSource } from './source.js'

/**
 * `replicas: N` (N > 1) on `www` becomes N plain services www-1 … www-N, so every runtime runs
 * them without knowing replicas exist. Each instance has its own address and the hostname
 * www-i.<domain>; the service's own hostnames (www.<domain> and those written) are shared by all,
 * so the plain name reaches one of them; an lb's backends and a depends_on naming www name all.
 * Runs after the rules, which check the envfile as written (its names are the ones it spells).
 */
export function expandReplicas(spec: EnvSpec, raw: RawEnvfile, source: EnvfileSource): EnvSpec {
  const counts = new Map<string, number>()
  for (const [name, service] of Object.entries(raw.services ?? {})) {
    const count = service?.replicas ?? 1
    if (count > 1) counts.set(name, count)
  }
  if (counts.size === 0) return spec
  for (const [name, count] of counts) checkReplicable(spec.services[name]!, count, source)

  const instanceNames = (name: string): string[] => {
    const count = counts.get(name)
    return count ? Array.from({ length: count }, (_, index) => `${name}-${index + 1}`) : [name]
  }
  const services: Record<string, ServiceSpec> = {}
  for (const service of Object.values(spec.services)) {
    const rewired: ServiceSpec = {
      ...service,
      dependsOn: service.dependsOn.flatMap((dependency) =>
        instanceNames(dependency.service).map((name) => ({ ...dependency, service: name })),
      ),
      ...(service.lb ? { lb: { ...service.lb, backends: service.lb.backends.flatMap(instanceNames) } } : {}),
    }
    const count = counts.get(service.name)
    if (!count) {
      services[service.name] = rewired
      continue
    }
    for (const [position, name] of instanceNames(service.name).entries()) {
      if (spec.services[name]) {
        throw new DevenvError(
          'ENVFILE_INVALID',
          `service ${name} has the name replica ${position + 1} of ${service.name} would take`,
          {
            location: source.locate(['services', name], { key: true }),
            hint: `Rename ${name}, or ${service.name}: with replicas: ${count} devenv runs ${instanceNames(service.name).join(', ')}.`,
          },
        )
      }
      const own = spec.domain !== undefined ? [`${name}.${spec.domain}`] : []
      services[name] = {
        ...rewired,
        name,
        hostnames: [...own, ...service.hostnames.filter((hostname) => !own.includes(hostname))],
        replica: { of: service.name, index: position + 1, count },
      }
    }
  }
  checkInstanceHostnames(services, source)
  return { ...spec, services }
}

function checkReplicable(service: ServiceSpec, count: number, source: EnvfileSource): void {
  const at = source.locate(['services', service.name, 'replicas'])
  if (describeBox(service.kind).stateful) {
    throw new DevenvError(
      'ENVFILE_INVALID',
      `service ${service.name}: box ${service.kind} keeps state, and replicas: ${count} would make ${count} separate copies of it, not one shared ${service.kind}`,
      {
        location: at,
        hint: `Remove replicas from ${service.name}; put replicas on the stateless services that use it.`,
      },
    )
  }
  if (service.publish.length > 0) {
    throw new DevenvError(
      'ENVFILE_INVALID',
      `service ${service.name}: replicas: ${count} cannot share the host port${service.publish.length > 1 ? 's' : ''} it publishes (${service.publish.map((entry) => entry.hostPort).join(', ')})`,
      {
        location: at,
        hint: `Publish the load balancer in front of ${service.name} instead, or remove publish (each replica is reached at its own address and hostname).`,
      },
    )
  }
}

/** An instance's own hostname (www-1.<domain>) must not be one another service claims. */
function checkInstanceHostnames(services: Record<string, ServiceSpec>, source: EnvfileSource): void {
  const owners = new Map<string, ServiceSpec>()
  for (const service of Object.values(services)) {
    for (const hostname of service.hostnames) {
      const owner = owners.get(hostname)
      const sameGroup = owner?.replica && owner.replica.of === service.replica?.of
      if (owner && !sameGroup && (owner.replica || service.replica)) {
        const replicated = service.replica ? service : owner
        throw new DevenvError(
          'ENVFILE_INVALID',
          `hostname ${hostname} is claimed by both ${owner.name} and ${service.name}`,
          {
            location: source.locate(['services', replicated.replica!.of, 'replicas']),
            hint: `${replicated.name} is a replica of ${replicated.replica!.of}; give the other service another hostname.`,
          },
        )
      }
      owners.set(hostname, service)
    }
  }
}
