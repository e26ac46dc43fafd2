import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { BundledRuntime } from './bundled/client.js'
import { DockerRuntime } from './docker/index.js'
import type { Runtime, RuntimeOptions } from './runtime.js'

export type * from './runtime.js'

/**
 * The providers, by the name `runtime:` gives them. A provider is a folder under runtime/ that
 * implements Runtime, plus one line here.
 */
const PROVIDERS: Record<EnvSpec['runtime'], ((options: RuntimeOptions) => Runtime) | undefined> = {
  bundled: (options) => new BundledRuntime(options),
  docker: (options) => new DockerRuntime(options),
}

/** A runtime of the named provider. */
export function createRuntime(provider: EnvSpec['runtime'], options: RuntimeOptions): Runtime {
  const create = PROVIDERS[provider]
  if (!create) {
    throw new DevenvError('RUNTIME', `the ${provider} runtime is not available in this version of devenv`, {
      hint: 'Remove `runtime: docker` from devenv.yaml to use the bundled runtime.',
    })
  }
  return create(options)
}

/** Every provider that can run here, to ask each which projects it runs (global-status, poweroff). */
export function availableProviders(): Array<EnvSpec['runtime']> {
  return (Object.keys(PROVIDERS) as Array<EnvSpec['runtime']>).filter((name) => PROVIDERS[name])
}

export { boxContainer, type BoxContainer } from './docker/index.js'

/** Builds devenv's box image on the engine (for exports whose boxes run in it); its reference. */
export async function buildBoxImage(onBuild: (message: string) => void = () => {}): Promise<string> {
  const { connectEngine, ensureBoxImage } = await import('./docker/index.js')
  return ensureBoxImage(await connectEngine(), onBuild)
}
