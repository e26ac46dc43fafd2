import { isMap } from 'yaml'
import { DevenvError } from '../errors.js'
import { didYouMean } from '../util/suggest.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

/** Checks that need the whole model: references, cycles, and claims two services cannot share. */
export function checkRules(spec: EnvSpec, source: EnvfileSource): void {
  const names = Object.keys(spec.services)
  const fail = (path: Array<string | number>, message: string, hint?: string): never => {
    throw new DevenvError('ENVFILE_INVALID', message, { location: source.locate(path), hint })
  }

  for (const service of Object.values(spec.services)) {
    service.dependsOn.forEach((dependency, index) => {
      // depends_on is a list ([psql]) or a mapping ({ psql: { condition: started } })
      const written = isMap(source.document.getIn(['services', service.name, 'depends_on']))
        ? dependency.service
        : index
      const at = ['services', service.name, 'depends_on', written]
      if (!spec.services[dependency.service]) {
        fail(
          at,
          `service ${service.name} depends on unknown service "${dependency.service}"${didYouMean(dependency.service, names)}`,
          `Services: ${names.join(', ')}.`,
        )
      }
      if (dependency.service === service.name) fail(at, `service ${service.name} depends on itself`)
    })
    service.lb?.backends.forEach((backend, index) => {
      if (!spec.services[backend]) {
        fail(
          ['services', service.name, 'backends', index],
          `service ${service.name} balances unknown service "${backend}"${didYouMean(backend, names)}`,
          `Services: ${names.join(', ')}.`,
        )
      }
      if (backend === service.name)
        fail(['services', service.name, 'backends', index], `service ${service.name} lists itself as a backend`)
    })
  }

  const cycle = findCycle(spec)
  if (cycle)
    fail(
      ['services', cycle[0]!, 'depends_on'],
      `dependency cycle: ${cycle.join(' → ')}`,
      'Remove one of these depends_on entries.',
    )

  const hostnameOwners = new Map<string, string>()
  for (const service of Object.values(spec.services)) {
    service.hostnames.forEach((hostname, index) => {
      const owner = hostnameOwners.get(hostname)
      if (owner && owner !== service.name) {
        fail(
          ['services', service.name, 'hostnames', index],
          `hostname ${hostname} is claimed by both ${owner} and ${service.name}`,
        )
      }
      hostnameOwners.set(hostname, service.name)
    })
  }

  const published = new Map<number, { service: string; address: string }>()
  for (const service of Object.values(spec.services)) {
    service.publish.forEach((entry, index) => {
      const owner = published.get(entry.hostPort)
      const overlaps =
        owner && (owner.address === entry.hostAddress || owner.address === '0.0.0.0' || entry.hostAddress === '0.0.0.0')
      if (owner && overlaps) {
        fail(
          ['services', service.name, 'publish', index],
          `host port ${entry.hostPort} is published by both ${owner.service} and ${service.name}`,
          'Give each a host port of its own, e.g. "81:8080" and "82:8080".',
        )
      }
      published.set(entry.hostPort, { service: service.name, address: entry.hostAddress })
    })
  }
}

/** The first dependency cycle found, as a closed path (a → b → a), or undefined. */
export function findCycle(spec: EnvSpec): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>()
  const stack: string[] = []
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name]
    state.set(name, 'visiting')
    stack.push(name)
    for (const dependency of spec.services[name]?.dependsOn ?? []) {
      const cycle = visit(dependency.service)
      if (cycle) return cycle
    }
    stack.pop()
    state.set(name, 'done')
    return undefined
  }
  for (const name of Object.keys(spec.services)) {
    const cycle = visit(name)
    if (cycle) return cycle
  }
  return undefined
}
