import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BoxDriver, Launch, ServiceContext } from '../driver.js'
import { processLaunch } from '../process/index.js'

/** devenv's own node_modules: the node box ships with pg and friends, as an image would. */
const BUNDLED_MODULES = fileURLToPath(new URL('../../../node_modules', import.meta.url))
/** The box's own builds of some of them, found first (scripts/bundle-cli.mjs: pg, as one file built for Node). */
const BOX_MODULES = fileURLToPath(new URL('./modules', import.meta.url))
/** CommonJS, for --require: an --import would start Node's ES module loader first (~8 ms of every app start). */
const RESOLVE_HOOK = fileURLToPath(new URL('./resolve-hostnames.cjs', import.meta.url))

/**
 * A Node.js app: a process box plus Node defaults. The project's hostnames resolve inside the
 * app even where the hosts file could not be written (a preloaded dns.lookup hook).
 */
export const nodeDriver: BoxDriver = {
  kind: 'node',
  launch(context: ServiceContext): Launch {
    const launch = processLaunch(context)
    const boxModules = existsSync(BOX_MODULES) ? BOX_MODULES : undefined
    const nodePath = [context.env.NODE_PATH, boxModules, BUNDLED_MODULES].filter(Boolean).join(path.delimiter)
    const nodeOptions = [context.env.NODE_OPTIONS, `--require=${JSON.stringify(RESOLVE_HOOK)}`].filter(Boolean).join(' ')
    return { ...launch, env: { ...launch.env, NODE_PATH: nodePath, NODE_OPTIONS: nodeOptions } }
  },
}
