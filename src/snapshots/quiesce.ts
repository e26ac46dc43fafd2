import type { EnvSpec } from '../envfile/model.js'
import { DevenvError } from '../errors.js'
import { runtimeFor } from '../runtime/index.js'
import { liveSupervisor } from '../runtime/bundled/recovery.js'
import { readProjectState } from '../state/project-state.js'

/** Brings the service back (starts it again, or ends the checkpoint). */
export type Resume = () => Promise<void>
/** Makes the service's data folder safe to copy or replace; returns how to undo that. */
export type Quiesce = () => Promise<Resume>

export type QuiescePurpose = 'save' | 'restore' | 'commit'

/**
 * The one place where snapshots meet the runtime. A running service is stopped cleanly (for
 * PostgreSQL a fast shutdown: checkpointed, so the copy is never torn) and started again after;
 * only that service stops, not what depends on it. A stopped service is left as it is.
 */
export function quiesceService(spec: EnvSpec, service: string, purpose: QuiescePurpose): Quiesce {
  return async () => {
    const state = readProjectState(spec.root)?.services[service]
    const running = state && (state.state === 'running' || state.state === 'starting') && liveSupervisor(spec.root)
    if (!running) return async () => {}
    const runtime = runtimeFor(spec)
    await runtime.stop(spec, [service])
    return async () => {
      const result = await runtime.up(spec, { services: [service] }, () => {})
      if (!result.ok) {
        throw new DevenvError('SERVICE_FAILED', `service ${service} did not come back after the ${purpose}: ${result.failed?.message ?? 'unknown error'}`, {
          details: result.failed?.lastLines ?? [],
          hint: `See devenv logs ${service}.`,
        })
      }
    }
  }
}
