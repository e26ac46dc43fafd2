import { capabilitiesOf } from '../boxes/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { runtimeFor } from '../engine/index.js'
import type { ExecContext } from '../runtime/index.js'

/**
 * What `exec` and `shell` run in: the service's own environment on its runtime, plus what its box
 * adds for the clients people run there (the libpq variables of a postgres service). A variable
 * the envfile declares for the service wins over the box's.
 */
export async function commandContext(spec: EnvSpec, name: string, database?: string): Promise<ExecContext> {
  const handle = runtimeFor(spec).service(spec, name)
  const context = await handle.execContext()
  const clientEnvironment = capabilitiesOf(spec.services[name]!.kind).clientEnvironment
  const added = clientEnvironment ? clientEnvironment(spec, name, await handle.endpoint(), database) : {}
  for (const key of Object.keys(spec.services[name]!.env)) delete added[key]
  return { ...context, env: { ...context.env, ...added } }
}
