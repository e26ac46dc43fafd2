import type { Endpoint } from '../boxes/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { availableProviders, createRuntime, type Runtime, type RuntimeActivity } from '../runtime/index.js'

/**
 * Where runtimes that start services in another process (the bundled supervisor) load the
 * engine's preparation from. A URL, not an import: `status` must not load snapshots and the box store.
 */
const PREPARATION_MODULE = new URL('./preparation.js', import.meta.url).href

/** In this process, the preparation comes from this copy of the engine (bundled or not). */
const loadPreparation = async () => (await import('./preparation.js')).preparation

/** The runtime the envfile asks for, with the engine's preparation wired in. */
export function runtimeFor(spec: EnvSpec): Runtime {
  return createRuntime(spec.runtime, { preparationModule: PREPARATION_MODULE, loadPreparation })
}

/** Whether a project known only by its folder runs on any provider, for global-status and poweroff. */
export function projectActivity(root: string): RuntimeActivity {
  for (const provider of availableProviders()) {
    const activity = createRuntime(provider, { preparationModule: PREPARATION_MODULE }).activity(root)
    if (activity.active) return activity
  }
  return { active: false }
}

/** Where a running service of the project answers (NOT_FOUND when it does not run). */
export function serviceEndpoint(spec: EnvSpec, service: string): Promise<Endpoint> {
  return runtimeFor(spec).service(spec, service).endpoint()
}

/**
 * The provider other than the envfile's that runs the project now, if any: `up --runtime docker`
 * while the bundled supervisor runs it would start every service twice on the same addresses.
 */
export function runningElsewhere(spec: EnvSpec): { provider: EnvSpec['runtime']; detail?: string } | undefined {
  for (const provider of availableProviders()) {
    if (provider === spec.runtime) continue
    const activity = createRuntime(provider, { preparationModule: PREPARATION_MODULE }).activity(spec.root)
    if (activity.active) return { provider, ...(activity.detail ? { detail: activity.detail } : {}) }
  }
  return undefined
}
