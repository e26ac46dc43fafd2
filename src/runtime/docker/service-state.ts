import type Docker from 'dockerode'
import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'
import type { ServiceState } from '../../state/index.js'
import type { Probe } from '../probes.js'

/** What `status` shows of a service, from its container as the engine describes it (undefined: no container). */
export async function serviceState(
  project: EnvSpec,
  service: ServiceSpec,
  address: string,
  container: Docker.ContainerInspectInfo | undefined,
  stoppedOnPurpose: boolean,
  probe: Probe | undefined,
): Promise<ServiceState> {
  const base: ServiceState = {
    name: service.name,
    box:
      service.image ??
      (service.imageBuild ? 'build' : service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name),
    kind: service.kind,
    state: 'stopped',
    health: 'none',
    address,
    hostnames: service.hostnames,
    ports: [],
    restarts: 0,
  }
  if (!container) return base
  const state = container.State
  const running = state.Running && !state.Restarting
  base.restarts = container.RestartCount ?? 0
  if (state.Restarting) base.state = 'starting'
  else if (running) base.state = 'running'
  else if (stoppedOnPurpose) base.state = 'stopped'
  else base.state = 'exited'
  if (!running && !stoppedOnPurpose && container.State.Status !== 'created') base.exitCode = state.ExitCode
  if (state.Error) base.message = state.Error
  if (base.state === 'running' || base.state === 'starting') {
    base.pid = state.Pid
    base.startedAt = state.StartedAt
    base.ports = service.ports.map((port) => {
      const published = service.publish.find((entry) => entry.port === port)
      return {
        port,
        bound: port,
        address,
        ...(published ? { published: { address: published.hostAddress, port: published.hostPort } } : {}),
      }
    })
    if (probe && running) {
      const result = await probe(500)
      base.health = result.ok ? 'healthy' : 'unhealthy'
      if (!result.ok) base.message = result.reason
    } else if (service.health) base.health = 'starting'
    base.mounts = service.mounts.length ? 'bind' : undefined
    if (base.mounts === undefined) delete base.mounts
  }
  if (!project.services[service.name]) base.notes = ['not in the envfile']
  return base
}
