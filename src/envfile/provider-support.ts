import { DevenvError } from '../errors.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

/**
 * What each runtime can run, said at `validate` rather than discovered halfway through `up`: a
 * Dockerfile build needs an engine (the docker runtime), and the bundled runtime runs images itself
 * on Linux only (namespaces, overlayfs); anything else is refused where the envfile asks for it.
 */
export function checkProviderSupport(spec: EnvSpec, source: EnvfileSource): void {
  if (spec.runtime === 'docker') return
  for (const service of Object.values(spec.services)) {
    if (service.imageBuild !== undefined) {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service.name}: build.context (a Dockerfile build) needs the docker runtime`,
        {
          location: source.locate(['services', service.name, 'build']),
          hint: 'Add `runtime: docker` at the top of devenv.yaml (or run `devenv up --runtime docker`), or give the build a `command:` the bundled runtime runs on the host.',
        },
      )
    }
    if (service.image !== undefined && process.platform !== 'linux') {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service.name}: image: ${service.image} needs Linux on the bundled runtime`,
        {
          location: source.locate(['services', service.name, 'image']),
          hint: 'Add `runtime: docker` at the top of devenv.yaml (or run `devenv up --runtime docker`) to run images on this system.',
        },
      )
    }
  }
}
