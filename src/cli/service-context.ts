import { postgresClientEnvironment } from '../boxes/postgres/client-env.js'
import type { EnvSpec } from '../envfile/index.js'
import { serviceShellContext, type ShellContext } from '../engine/exec.js'

/**
 * What `exec` and `shell` run in: the service's own environment, plus what its box adds for the
 * clients people run there (the libpq variables of a postgres service). A variable the envfile
 * declares for the service wins over the box's.
 */
export function commandContext(spec: EnvSpec, name: string, database?: string): ShellContext {
  const context = serviceShellContext(spec, name)
  const added = postgresClientEnvironment(spec, name, database)
  const declared = spec.services[name]!.env
  for (const key of Object.keys(declared)) delete added[key]
  return { ...context, env: { ...context.env, ...added } }
}
