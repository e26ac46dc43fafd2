import type { Quiesce } from '../boxes/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import type { Runtime } from '../runtime/index.js'

export type { Quiesce, Resume } from '../boxes/index.js'

export type QuiescePurpose = 'save' | 'restore' | 'commit'

/**
 * The one place where snapshots meet the runtime. A running service is stopped cleanly (for
 * PostgreSQL a fast shutdown: checkpointed, so the copy is never torn) and started again after;
 * only that service stops, not what depends on it. A stopped service is left as it is.
 */
export function quiesceService(runtime: Runtime, spec: EnvSpec, service: string, purpose: QuiescePurpose): Quiesce {
  return async () => {
    const handle = runtime.service(spec, service)
    if (!(await handle.isRunning())) return async () => {}
    await handle.stop()
    return async () => {
      const result = await handle.start()
      if (!result.ok) {
        throw new DevenvError(
          'SERVICE_FAILED',
          `service ${service} did not come back after the ${purpose}: ${result.failed?.message ?? 'unknown error'}`,
          {
            details: result.failed?.lastLines ?? [],
            hint: `See devenv logs ${service}.`,
          },
        )
      }
    }
  }
}
