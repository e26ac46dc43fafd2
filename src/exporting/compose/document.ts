import path from 'node:path'
import type { DependencyCondition, EnvSpec, RestartPolicy, ServiceSpec } from '../../envfile/index.js'
import { containerOf, goDuration, healthCommand, type Container } from '../container.js'
import type { BoxContainerPlanner, ContainerMount } from '../plan.js'

/** The part of the Compose file format devenv writes (each key as the compose-spec names it). */
export interface ComposeService {
  image: string
  build?: { context: string }
  command?: string[]
  environment?: Record<string, string>
  user?: string
  working_dir?: string
  hostname: string
  networks: { default: { aliases: string[] } }
  expose?: string[]
  ports?: string[]
  volumes?: string[]
  healthcheck?: { test: string[]; interval: string; timeout: string; retries: number; start_period: string }
  depends_on?: Record<string, { condition: string }>
  restart: string
  stop_grace_period: string
}

export interface ComposeFile {
  services: Record<string, ComposeService>
  volumes?: Record<string, Record<string, never>>
}

export interface ComposeExport {
  file: ComposeFile
  /** Images devenv builds locally, each with how to build it. */
  images: Array<{ image: string; buildHint: string }>
  notes: string[]
}

const CONDITIONS: Record<DependencyCondition, string> = {
  started: 'service_started',
  healthy: 'service_healthy',
  completed: 'service_completed_successfully',
}

const RESTART: Record<RestartPolicy, string> = { no: 'no', 'on-failure': 'on-failure', always: 'always' }

/**
 * The envfile as a Compose file. Replicas stay the services they are on the bundled runtime
 * (www-1 … www-N, each its own hostname), and the plain name is a network alias of each, so
 * Docker's DNS answers it with every instance. Paths are relative to `folder`, where the file goes.
 */
export function composeFile(spec: EnvSpec, planner: BoxContainerPlanner, folder: string): ComposeExport {
  const notes: string[] = []
  const images = new Map<string, string>()
  const volumes = new Set<string>()
  const services: Record<string, ComposeService> = {}
  for (const service of Object.values(spec.services)) {
    const container = containerOf(spec, service, planner, notes)
    if (container.buildHint !== undefined) images.set(container.image, container.buildHint)
    for (const mount of container.mounts) if (!path.isAbsolute(mount.source)) volumes.add(mount.source)
    services[service.name] = composeService(spec, service, container, folder)
    if (service.health?.check.kind === 'http' && service.health.check.status !== undefined)
      notes.push(
        `${service.name}: its health check expects status ${service.health.check.status}; Compose's takes any 2xx`,
      )
  }
  const file: ComposeFile = { services }
  if (volumes.size > 0) file.volumes = Object.fromEntries([...volumes].map((name) => [name, {}]))
  return { file, images: [...images].map(([image, buildHint]) => ({ image, buildHint })), notes }
}

export function composeService(
  spec: EnvSpec,
  service: ServiceSpec,
  container: Container,
  folder: string,
): ComposeService {
  const aliases = [...service.hostnames, ...(service.replica ? [service.replica.of] : [])]
  const entry: ComposeService = {
    image: container.image,
    ...(container.buildContext !== undefined
      ? { build: { context: relativePath(folder, container.buildContext) } }
      : {}),
    ...(container.command !== undefined ? { command: container.command } : {}),
    ...(Object.keys(container.env).length > 0 ? { environment: container.env } : {}),
    ...(container.user !== undefined ? { user: container.user } : {}),
    ...(container.workdir !== undefined ? { working_dir: container.workdir } : {}),
    hostname: service.name,
    networks: { default: { aliases } },
    restart: RESTART[service.restart.policy],
    stop_grace_period: goDuration(service.stopTimeoutMs),
  }
  if (service.ports.length > 0) entry.expose = service.ports.map(String)
  if (service.publish.length > 0)
    entry.ports = service.publish.map(
      (publish) =>
        `${publish.hostAddress.includes(':') ? `[${publish.hostAddress}]` : publish.hostAddress}:${publish.hostPort}:${publish.port}`,
    )
  if (container.mounts.length > 0) entry.volumes = container.mounts.map((mount) => volume(mount, folder))
  const health = service.health
  const test = health ? healthCommand(health.check, service.ports) : undefined
  if (health && (test !== undefined || container.probe)) {
    entry.healthcheck = {
      test: container.probe ? ['CMD', ...container.probe] : ['CMD-SHELL', test!],
      interval: goDuration(health.intervalMs),
      timeout: goDuration(health.timeoutMs),
      retries: health.retries,
      start_period: goDuration(health.startPeriodMs),
    }
  }
  if (service.dependsOn.length > 0) {
    entry.depends_on = Object.fromEntries(
      service.dependsOn.map((dependency) => {
        // Compose refuses service_healthy on a service without a health check; started is what remains.
        const checked = spec.services[dependency.service]?.health !== undefined
        const condition = dependency.condition === 'healthy' && !checked ? 'started' : dependency.condition
        return [dependency.service, { condition: CONDITIONS[condition] }]
      }),
    )
  }
  return entry
}

function volume(mount: ContainerMount, folder: string): string {
  const source = path.isAbsolute(mount.source) ? relativePath(folder, mount.source) : mount.source
  return `${source}:${mount.target}${mount.readonly ? ':ro' : ''}`
}

/** Compose reads a bind source as a path only when it starts with . or /. */
function relativePath(folder: string, target: string): string {
  const relative = path.relative(folder, target)
  if (relative === '') return '.'
  return relative.startsWith('..') ? relative : `./${relative}`
}
