import { loadEnvfileCached } from '../envfile/resolved/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { readRuntimeChoice } from '../state/index.js'

/**
 * loadProjectSpec for the direct route: the same spec, taken from the project's cache of it when
 * nothing it depends on changed, so that `status` or `down` parse no YAML. The box store and the
 * loader are imported only when the envfile must be read in full.
 */
export function loadCachedProjectSpec(file: string | undefined, runtime?: EnvSpec['runtime']): Promise<EnvSpec> {
  return loadEnvfileCached({
    ...(file ? { file } : {}),
    runtime: (root) => runtime ?? readRuntimeChoice(root),
    boxResolver: async () => (await import('../boxes/store/index.js')).resolveCommittedBox,
  })
}
