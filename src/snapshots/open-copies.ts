import type { EnvSpec } from '../envfile/model.js'
import { DevenvError, usage } from '../errors.js'
import type { Runtime } from '../runtime/index.js'
import { crashPoint } from './crash-points.js'
import type { OpenServiceCopies } from './service-copies.js'

/**
 * How the snapshot commands reach the copies a postgres service keeps inside its cluster. The
 * server must run to make or swap a copy: a stopped service is started for the operation and
 * stopped again after, so the user finds it as they left it.
 */
export function openPostgresCopies(runtime: Runtime, spec: EnvSpec, service: string): OpenServiceCopies {
  return async ({ start }) => {
    if (!spec.services[service]?.postgres?.databases.length) {
      throw usage(`service ${service} declares no databases, so its snapshots would hold nothing`, `Declare the databases to keep under services.${service}.databases in ${spec.file} (docs/postgres.md).`)
    }
    const handle = runtime.service(spec, service)
    let running = (await handle.inspect()).state === 'running' && (await handle.isRunning())
    let startedHere = false
    if (!running && start) {
      const result = await handle.start()
      if (!result.ok) {
        throw new DevenvError('SERVICE_FAILED', `service ${service} must run for its snapshot, and did not start: ${result.failed?.message ?? 'unknown error'}`, {
          details: result.failed?.lastLines ?? [],
          hint: `See devenv logs ${service}.`,
        })
      }
      running = true
      startedHere = true
    }
    // Loaded here, not at the top: the PostgreSQL client is not needed by `snapshot list`.
    const { postgresServiceCopies } = await import('../boxes/postgres/snapshot-access.js')
    return {
      copies: postgresServiceCopies(spec, service, running ? await handle.endpoint() : undefined, crashPoint),
      close: async () => {
        if (startedHere) await handle.stop()
      },
    }
  }
}
