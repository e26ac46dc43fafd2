import { existsSync } from 'node:fs'
import path from 'node:path'
import type { EnvSpec, HealthCheck, ServiceSpec } from '../envfile/index.js'
import { fillRuntimeVariables } from '../spec/index.js'
import type { BoxContainerPlanner, ContainerMount } from './plan.js'

/** What runs a service in a container, whichever target it is written for. */
export interface Container {
  image: string
  /** A Dockerfile folder (absolute) that builds `image`, for an image service whose build folder has one. */
  buildContext?: string
  command?: string[]
  env: Record<string, string>
  user?: string
  mounts: ContainerMount[]
  workdir?: string
  /** How to build the image before the export runs, when devenv builds it (built-in boxes). */
  buildHint?: string
  /** The command that checks health inside the container, when the image carries one (devenv's box image). */
  probe?: string[]
}

/** Inside a container the service listens on every address of its own network namespace. */
const CONTAINER_HOST = '0.0.0.0'
export const CONTAINER_DATA = '/data'

/**
 * A service with `image:` runs that image, its command through /bin/sh as the bundled runtime
 * runs it; any other (a built-in box, or a command) runs as the planner says.
 */
export function containerOf(
  spec: EnvSpec,
  service: ServiceSpec,
  planner: BoxContainerPlanner,
  notes: string[],
): Container {
  const runtime = runtimeVariables(spec, service)
  const env = { ...runtime }
  for (const [key, value] of Object.entries(service.env)) env[key] = fillRuntimeVariables(value, runtime)
  if (service.image === undefined) {
    const plan = planner(spec, service)
    return {
      image: plan.image,
      command: plan.command,
      // What the envfile declares, then what the box needs (which wins: it is how the box runs).
      env: { ...env, ...plan.env },
      ...(plan.user !== undefined ? { user: plan.user } : {}),
      mounts: plan.mounts,
      buildHint: plan.buildHint,
      ...(plan.probe ? { probe: plan.probe } : {}),
    }
  }
  const container: Container = {
    image: service.image,
    env,
    mounts: service.mounts.map((mount) => ({ source: mount.source, target: mount.target, readonly: mount.readonly })),
  }
  if (service.command !== undefined)
    container.command = ['/bin/sh', '-c', fillRuntimeVariables(service.command, runtime)]
  const workdir = containerPath(service, service.workdir)
  if (workdir !== undefined) container.workdir = workdir
  if (service.build) {
    if (existsSync(path.join(service.build.workdir, 'Dockerfile'))) container.buildContext = service.build.workdir
    else
      notes.push(
        `${service.name}: its build (${service.build.command}) runs on this machine, not in an image build: run \`devenv build ${service.name}\` before starting the export, or add a Dockerfile to ${service.build.workdir}`,
      )
  }
  return container
}

/** HOST, PORT and DEVENV_* as a container sees them, for ${…} in env and command. */
function runtimeVariables(spec: EnvSpec, service: ServiceSpec): Record<string, string> {
  return {
    HOST: CONTAINER_HOST,
    ...(service.ports[0] !== undefined ? { PORT: String(service.ports[0]) } : {}),
    DEVENV_PROJECT: spec.name,
    DEVENV_SERVICE: service.name,
    DEVENV_ADDRESS: CONTAINER_HOST,
    DEVENV_DATA: CONTAINER_DATA,
    DEVENV_HOSTNAMES: service.hostnames.join(','),
  }
}

/** A host folder as the container sees it: under the mount that holds it; undefined when none does. */
function containerPath(service: ServiceSpec, hostPath: string): string | undefined {
  for (const mount of service.mounts) {
    const relative = path.relative(mount.source, hostPath)
    if (relative === '') return mount.target
    if (!relative.startsWith('..') && !path.isAbsolute(relative)) return path.posix.join(mount.target, relative)
  }
  return undefined
}

/**
 * A health check as a shell command run inside the container. Images differ in what they carry,
 * so each check tries the usual tools in turn (wget, then curl; nc -z, busybox's nc, then bash).
 */
export function healthCommand(check: HealthCheck, ports: readonly number[]): string | undefined {
  if (check.kind === 'command') return check.command
  const port = check.kind === 'box' ? ports[0] : check.port
  if (port === undefined) return undefined
  if (check.kind === 'http') {
    const url = `http://127.0.0.1:${port}${check.path.startsWith('/') ? '' : '/'}${check.path}`
    return `wget -q -O /dev/null ${url} || curl -fsS -o /dev/null ${url}`
  }
  // busybox's nc has no -z: connecting with nothing to send, it exits 0 once connected.
  return `nc -z 127.0.0.1 ${port} 2>/dev/null || nc 127.0.0.1 ${port} </dev/null >/dev/null 2>&1 || bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}'`
}

/** Milliseconds as a Go duration, as Compose and Swarm read them. */
export function goDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`
}
