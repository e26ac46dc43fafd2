import { capabilitiesOf } from '../boxes/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import type { Runtime } from '../runtime/index.js'
import { crashPoint } from '../util/crash-points.js'
import type { OpenServiceCopies } from './service-copies.js'

/**
 * How the snapshot commands reach the copies a service keeps inside itself (a postgres cluster's
 * template databases), for boxes that have that capability. The server must run to make or swap
 * a copy: a stopped service is started for the operation and stopped again after, so the user
 * finds it as they left it. Undefined for a box that keeps file snapshots.
 */
export function openServiceCopies(runtime: Runtime, spec: EnvSpec, service: string): OpenServiceCopies | undefined {
  const kind = spec.services[service]?.kind
  const capabilities = kind ? capabilitiesOf(kind) : {}
  const load = capabilities.serviceCopies
  if (!load) return undefined
  return async ({ start }) => {
    capabilities.checkSnapshottable?.(spec, service)
    const handle = runtime.service(spec, service)
    let running = (await handle.inspect()).state === 'running' && (await handle.isRunning())
    let startedHere = false
    if (!running && start) {
      const result = await handle.start()
      if (!result.ok) {
        throw new DevenvError(
          'SERVICE_FAILED',
          `service ${service} must run for its snapshot, and did not start: ${result.failed?.message ?? 'unknown error'}`,
          {
            details: result.failed?.lastLines ?? [],
            hint: `See devenv logs ${service}.`,
          },
        )
      }
      running = true
      startedHere = true
    }
    return {
      copies: await load(spec, service, running ? await handle.endpoint() : undefined, crashPoint),
      close: async () => {
        if (startedHere) await handle.stop()
      },
    }
  }
}
