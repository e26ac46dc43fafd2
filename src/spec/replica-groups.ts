import type { EnvSpec, ServiceSpec } from '../envfile/index.js'

/** A service as the envfile writes it: one, or the N instances of `replicas: N` taken together. */
export interface ServiceGroup {
  /** The name written in the envfile (www, not www-1). */
  name: string
  /**
   * The first instance, named as the group, with the group's shared hostnames, and its
   * depends_on and lb backends naming groups: what a Deployment or Swarm service is made from.
   */
  service: ServiceSpec
  instances: ServiceSpec[]
  replicas: number
}

/** Regroups the instances expandReplicas made, in the envfile's order. */
export function serviceGroups(spec: EnvSpec): ServiceGroup[] {
  const groups = new Map<string, ServiceSpec[]>()
  for (const service of Object.values(spec.services)) {
    const name = groupOf(service)
    groups.set(name, [...(groups.get(name) ?? []), service])
  }
  return [...groups].map(([name, instances]) => {
    const first = instances[0]!
    const own = spec.domain !== undefined && first.replica ? `${first.name}.${spec.domain}` : undefined
    const service: ServiceSpec = {
      ...first,
      name,
      hostnames: first.hostnames.filter((hostname) => hostname !== own),
      dependsOn: unique(
        first.dependsOn.map((dependency) => ({ ...dependency, service: groupName(spec, dependency.service) })),
        (dependency) => dependency.service,
      ),
      ...(first.lb
        ? { lb: { ...first.lb, backends: [...new Set(first.lb.backends.map((backend) => groupName(spec, backend)))] } }
        : {}),
    }
    delete service.replica
    return { name, service, instances, replicas: instances.length }
  })
}

/** The group a service belongs to: its replica's `of`, or its own name. */
export function groupName(spec: EnvSpec, service: string): string {
  const found = spec.services[service]
  return found ? groupOf(found) : service
}

function groupOf(service: ServiceSpec): string {
  return service.replica?.of ?? service.name
}

function unique<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>()
  return items.filter((item) => !seen.has(key(item)) && seen.add(key(item)))
}
