import type { ServiceContext } from '../../boxes/index.js'
import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'

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

/** The box context as a program in its container reads it (the box runner, the probe). */
export function readBoxContext(): { box: BoxContainerContext; service: ServiceSpec } {
  const box = JSON.parse(process.env[BOX_CONTEXT_VARIABLE] ?? '{}') as BoxContainerContext
  const service = box.project?.services[box.service]
  if (!service) throw new Error(`${BOX_CONTEXT_VARIABLE} names no service of the project`)
  return { box, service }
}

/** What a driver is given inside its container: every address of its own network, peers by their names. */
export function containerServiceContext(
  box: BoxContainerContext,
  service: ServiceSpec,
  log: (line: string) => void,
  signal: AbortSignal,
): ServiceContext {
  const { project } = box
  return {
    project: { name: project.name, root: project.root, ...(project.domain ? { domain: project.domain } : {}) },
    service,
    address: '0.0.0.0',
    ...(box.env.DEVENV_ADDRESS ? { publicAddress: box.env.DEVENV_ADDRESS } : {}),
    port: (declared) => declared,
    dataDir: CONTAINER_PATHS.data,
    runDir: CONTAINER_PATHS.run,
    machineHome: CONTAINER_PATHS.home,
    env: box.env,
    log,
    endpoint: (peer) => ({ address: peer, port: (declared) => declared }),
    peer: (peer) => project.services[peer],
    signal,
    ...(box.runAs ? { runAs: box.runAs } : {}),
  }
}
