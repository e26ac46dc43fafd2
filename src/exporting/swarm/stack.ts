import type { EnvSpec, RestartPolicy } from '../../envfile/index.js'
import { composeService, type ComposeService } from '../compose/document.js'
import { containerOf } from '../container.js'
import { serviceGroups } from '../../spec/index.js'
import type { BoxContainerPlanner } from '../plan.js'

type StackPort = { target: number; published: number; protocol: 'tcp'; mode: 'host' | 'ingress' }

export type StackService = Omit<ComposeService, 'build' | 'depends_on' | 'restart' | 'ports'> & {
  ports?: StackPort[]
  deploy: {
    replicas: number
    endpoint_mode: 'dnsrr' | 'vip'
    restart_policy: { condition: 'none' | 'on-failure' | 'any'; max_attempts?: number }
  }
}

export interface StackFile {
  version: string
  services: Record<string, StackService>
  volumes?: Record<string, Record<string, never>>
}

export interface Stack {
  file: StackFile
  /** Images to build before deploying (a Dockerfile folder each): Swarm never builds. */
  builds: Array<{ image: string; context: string }>
  /** Images devenv builds locally for its boxes, with how. */
  images: Array<{ image: string; buildHint: string }>
  notes: string[]
}

const CONDITION: Record<RestartPolicy, 'none' | 'on-failure' | 'any'> = {
  no: 'none',
  'on-failure': 'on-failure',
  always: 'any',
}

/**
 * The envfile as a stack for `docker stack deploy`: one Swarm service per envfile service, with
 * its replicas (www-1 … are one service of N tasks again, each task's hostname www-<slot>).
 * Without IPVS in the kernel Swarm's virtual IPs and routing mesh do not answer, so `dnsrr`
 * resolves a service's name to its tasks and published ports are bound on the node (host mode).
 */
export function stackFile(spec: EnvSpec, planner: BoxContainerPlanner, options: { dnsrr: boolean }): Stack {
  const notes: string[] = []
  const builds: Array<{ image: string; context: string }> = []
  const images = new Map<string, string>()
  const volumes = new Set<string>()
  const services: Record<string, StackService> = {}
  for (const group of serviceGroups(spec)) {
    const { service } = group
    const container = containerOf(spec, service, planner, notes)
    if (container.buildHint !== undefined) images.set(container.image, container.buildHint)
    if (container.buildContext !== undefined) builds.push({ image: container.image, context: container.buildContext })
    for (const mount of container.mounts) if (!mount.source.startsWith('/')) volumes.add(mount.source)
    // Swarm builds nothing, orders nothing and restarts by its own policy; ports are its own too.
    const base: Partial<ComposeService> = composeService(spec, service, container, '/')
    delete base.build
    delete base.depends_on
    delete base.restart
    delete base.ports
    const entry: StackService = {
      ...(base as Omit<ComposeService, 'build' | 'depends_on' | 'restart' | 'ports'>),
      // Swarm reads bind sources on the node, as absolute paths (the file is given on stdin).
      ...(container.mounts.length > 0
        ? {
            volumes: container.mounts.map((mount) => `${mount.source}:${mount.target}${mount.readonly ? ':ro' : ''}`),
          }
        : {}),
      hostname: group.replicas > 1 ? `${service.name}-{{.Task.Slot}}` : service.name,
      deploy: {
        replicas: group.replicas,
        endpoint_mode: options.dnsrr ? 'dnsrr' : 'vip',
        restart_policy: {
          condition: CONDITION[service.restart.policy],
          ...(service.restart.policy === 'on-failure' ? { max_attempts: service.restart.maxRestarts } : {}),
        },
      },
    }
    if (service.publish.length > 0) {
      entry.ports = service.publish.map((publish) => ({
        target: publish.port,
        published: publish.hostPort,
        protocol: 'tcp' as const,
        mode: options.dnsrr ? ('host' as const) : ('ingress' as const),
      }))
      notes.push(
        `${service.name}: Swarm publishes ${service.publish.map((publish) => publish.hostPort).join(', ')} on every address of the node (it has no host address), not ${[...new Set(service.publish.map((publish) => publish.hostAddress))].join(', ')} only`,
      )
    }
    if (service.dependsOn.length > 0)
      notes.push(
        `${service.name}: Swarm ignores depends_on and starts every service at once; ${service.name} must retry until ${service.dependsOn.map((dependency) => dependency.service).join(', ')} answer (its restart policy brings it back if it exits)`,
      )
    services[service.name] = entry
  }
  const file: StackFile = { version: '3.8', services }
  if (volumes.size > 0) file.volumes = Object.fromEntries([...volumes].map((name) => [name, {}]))
  return { file, builds, images: [...images].map(([image, buildHint]) => ({ image, buildHint })), notes }
}
