import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'
import { serviceGroups } from '../../spec/index.js'
import { boxImageReference, IMAGE_NODE, IMAGE_PACKAGE } from './box-image.js'
import { planContainer } from './container-plan.js'

/** How a built-in box (or a plain command) runs as a container, for exports to Compose, Kubernetes and Swarm. */
export interface BoxContainer {
  image: string
  command: string[]
  env: Record<string, string>
  user?: string
  mounts: Array<{ source: string; target: string; readonly: boolean }>
  buildHint: string
  /** The command that runs the service's health check inside its container (the image has Node, not wget or nc). */
  probe: string[]
}

/**
 * The same container the docker provider runs for a built-in box: devenv's box image, the box
 * runner as its command, the project folder at its own path. Clients outside reach it on 127.0.0.1
 * (what a Compose file publishes on), which its certificates and FTP's passive replies name.
 */
export function boxContainer(spec: EnvSpec, service: ServiceSpec): BoxContainer {
  const reference = boxImageReference()
  // An export writes replicas as one service of N (www, not www-1 …): the box sees the project so, its peers by their group names.
  const grouped: EnvSpec = {
    ...spec,
    services: Object.fromEntries(serviceGroups(spec).map((group) => [group.name, group.service])),
  }
  const plan = planContainer(grouped, service, {
    address: '127.0.0.1',
    network: 'default',
    image: { reference, id: '' },
    boxed: true,
  })
  const env = Object.fromEntries(
    (plan.options.Env ?? []).map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  )
  const mounts = (plan.options.HostConfig?.Binds ?? []).map((bind) => {
    const [source, target, mode] = bind.split(':') as [string, string, string | undefined]
    return { source, target, readonly: mode === 'ro' }
  })
  return {
    image: reference,
    command: plan.options.Cmd as string[],
    env,
    ...(plan.options.User ? { user: plan.options.User } : {}),
    mounts,
    probe: [IMAGE_NODE, `${IMAGE_PACKAGE}/dist/runtime/docker/probe-main.js`],
    buildHint: `devenv builds ${reference} on this machine's engine: \`devenv export compose --build-images\` (or any \`devenv up --runtime docker\`)`,
  }
}
