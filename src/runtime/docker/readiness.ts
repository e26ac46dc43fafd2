import type Docker from 'dockerode'
import type { BoxDriver, ServiceContext } from '../../boxes/index.js'
import type { ServiceSpec } from '../../envfile/index.js'
import type { ProbeResult } from '../../boxes/index.js'
import { httpProbe, tcpProbe, type Probe } from '../probes.js'

/** A health command runs inside the service's container, where its tools are, not on the host. */
function execProbe(docker: Docker, container: string, command: string): Probe {
  return async (timeoutMs) => {
    try {
      const exec = await docker
        .getContainer(container)
        .exec({ Cmd: ['/bin/sh', '-c', command], AttachStdout: true, AttachStderr: true })
      const stream = await exec.start({})
      stream.resume()
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const state = await exec.inspect()
        if (!state.Running)
          return state.ExitCode === 0 ? { ok: true } : { ok: false, reason: `health command exited ${state.ExitCode}` }
        if (Date.now() > deadline) return { ok: false, reason: `health command timed out after ${timeoutMs} ms` }
        await new Promise((resolve) => setTimeout(resolve, 25))
      }
    } catch (error) {
      return { ok: false, reason: `health command: ${(error as Error).message}` }
    }
  }
}

/**
 * devenv's own readiness check of a container, from the host at the service's address (not the
 * engine's HEALTHCHECK: Podman without systemd never runs those). Undefined when none is declared.
 */
export function containerProbe(
  docker: Docker,
  container: string,
  service: ServiceSpec,
  driver: BoxDriver | undefined,
  hostContext: ServiceContext,
): Probe | undefined {
  const check = service.health?.check
  if (!check) return undefined
  const address = hostContext.address
  switch (check.kind) {
    case 'tcp':
      return tcpProbe(address, check.port)
    case 'http':
      return httpProbe(address, check.port, check.path, check.status)
    case 'command':
      return execProbe(docker, container, check.command)
    case 'box':
      return driver?.probe
        ? (): Promise<ProbeResult> => driver.probe!(hostContext)
        : tcpProbe(address, service.ports[0] ?? 0)
  }
}

export type Readiness = { ok: true; completed?: boolean } | { ok: false; reason: string }

/**
 * Waits until the container is ready by its probe (running, when it declares none), or has
 * completed (exit 0 of a service that does not restart), or has failed, or the deadline passed.
 */
export async function waitReady(
  docker: Docker,
  container: string,
  probe: Probe | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Readiness> {
  const deadline = Date.now() + timeoutMs
  let lastReason = ''
  while (Date.now() < deadline && !signal?.aborted) {
    const state = (await docker.getContainer(container).inspect()).State
    if (!state.Running && !state.Restarting) {
      if (state.ExitCode === 0 && state.Status === 'exited') return { ok: true, completed: true }
      return { ok: false, reason: `exited (code ${state.ExitCode})${state.Error ? `: ${state.Error}` : ''}` }
    }
    if (state.Running && !state.Restarting) {
      if (!probe) return { ok: true }
      const result = await probe(Math.min(2000, Math.max(200, deadline - Date.now())))
      if (result.ok) return { ok: true }
      lastReason = result.reason
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    ok: false,
    reason: `not ready after ${Math.round(timeoutMs / 1000)} s${lastReason ? `: ${lastReason}` : ''}`,
  }
}
