import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'
import { boxImageReference } from './box-image.js'
import { planContainer } from './container-plan.js'

/** How a built-in box (or a plain command) runs as a container, for exports to Compose, Kubernetes and Swarm. */
export interface BoxContainer {
  image: string
  command: string[]
  env: Record<string, string>
  user?: string
  mounts: Array<{ source: string; target: string; readonly: boolean }>
  buildHint: string
}

/**
 * The same container the docker provider runs for a built-in box: devenv's box image, the box
 * runner as its command, the project folder at its own path. Clients outside reach it on 127.0.0.1
 * (what a Compose file publishes on), which its certificates and FTP's passive replies name.
 */
export function boxContainer(spec: EnvSpec, service: ServiceSpec): BoxContainer {
  const reference = boxImageReference()
  const plan = planContainer(spec, service, {
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
    buildHint: `devenv builds ${reference} on this machine's engine: \`devenv export compose --build-images\` (or any \`devenv up --runtime docker\`)`,
  }
}
