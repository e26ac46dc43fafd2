import type { EnvSpec } from '../../envfile/index.js'

/** Where a box container finds its own folders: neutral paths, bound from the host's. */
export const CONTAINER_PATHS = { data: '/devenv/data', run: '/devenv/run', home: '/devenv/home' } as const

/** The environment variable that carries a box container's context to the box runner inside it. */
export const BOX_CONTEXT_VARIABLE = 'DEVENV_BOX_CONTEXT'

/**
 * What the box runner inside a container needs to prepare and start its box, the same driver as on
 * the bundled runtime: the project (its folder is bound at the same path, so every path in the spec
 * holds), the service, and who the box runs as when it refuses root.
 */
export interface BoxContainerContext {
  project: EnvSpec
  service: string
  env: Record<string, string>
  runAs?: { user: string; uid: number; gid: number }
}
