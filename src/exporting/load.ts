import { resolveCommittedBox } from '../boxes/store/index.js'
import { loadEnvfile, type EnvSpec } from '../envfile/index.js'

/**
 * The envfile as an export reads it: checked as `validate` checks it, except for what only the
 * local runtime cannot run yet (image services), which the export targets run.
 */
export function loadForExport(file: string | undefined): EnvSpec {
  return loadEnvfile({ ...(file ? { file } : {}), resolveBox: resolveCommittedBox, checkProviderSupport: false })
}
