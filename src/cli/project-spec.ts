import { resolveCommittedBox } from '../boxes/store/index.js'
import { loadEnvfile, type EnvSpec } from '../envfile/index.js'

/** The project's envfile (`file`, or discovered from the working folder), loaded and validated. */
export function loadProjectSpec(file: string | undefined): EnvSpec {
  return loadEnvfile({ ...(file ? { file } : {}), resolveBox: resolveCommittedBox })
}
