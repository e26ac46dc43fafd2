import { DevenvError } from '../errors.js'
import { readProjectState } from '../state/project-state.js'

/** Brings the service back (starts it again, or ends the checkpoint). */
export type Resume = () => Promise<void>
/** Makes the service's data folder safe to copy or replace; returns how to undo that. */
export type Quiesce = () => Promise<Resume>

export type QuiescePurpose = 'save' | 'restore' | 'commit'

/**
 * The one place where snapshots meet the runtime. Until the supervisor exposes stop/start, a
 * running service cannot be quiesced, so this refuses rather than copy a live data folder.
 */
export function quiesceService(root: string, service: string, purpose: QuiescePurpose): Quiesce {
  return async () => {
    const state = readProjectState(root)?.services[service]
    if (state && (state.state === 'running' || state.state === 'starting')) {
      throw new DevenvError('SNAPSHOT', `service ${service} is ${state.state}: cannot ${purpose === 'save' ? 'snapshot' : purpose} it while it runs yet`, {
        hint: `Stop it first (devenv down), then run the ${purpose} again.`,
      })
    }
    return async () => {}
  }
}
