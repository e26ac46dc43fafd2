import { resolveCommittedBox } from '../boxes/store/index.js'
import { loadEnvfile, type EnvSpec } from '../envfile/index.js'
import { readRuntimeChoice } from '../state/index.js'

/**
 * The project's envfile (`file`, or discovered from the working folder), loaded and validated, on
 * `runtime` (`up --runtime`) or else the runtime the project was last brought up on with one.
 */
export function loadProjectSpec(file: string | undefined, runtime?: EnvSpec['runtime']): EnvSpec {
  return loadEnvfile({
    ...(file ? { file } : {}),
    resolveBox: resolveCommittedBox,
    runtime: (root) => runtime ?? readRuntimeChoice(root),
  })
}
