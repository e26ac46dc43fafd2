import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BoxDriver, Launch, ServiceContext } from '../driver.js'
import { processLaunch } from '../process/index.js'

/** devenv's own node_modules: the node box ships with pg and friends, as an image would. */
const BUNDLED_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url))
const RESOLVE_HOOK = fileURLToPath(new URL('./resolve-hostnames.js', import.meta.url))

/**
 * A Node.js app: a process box plus Node defaults. The project's hostnames resolve inside the
 * app even where the hosts file could not be written (a preloaded dns.lookup hook).
 */
export const nodeDriver: BoxDriver = {
  kind: 'node',
  launch(context: ServiceContext): Launch {
    const launch = processLaunch(context)
    const nodePath = [context.env.NODE_PATH, BUNDLED_MODULES].filter(Boolean).join(path.delimiter)
    const nodeOptions = [context.env.NODE_OPTIONS, `--import=${RESOLVE_HOOK}`].filter(Boolean).join(' ')
    return { ...launch, env: { ...launch.env, NODE_PATH: nodePath, NODE_OPTIONS: nodeOptions } }
  },
}
