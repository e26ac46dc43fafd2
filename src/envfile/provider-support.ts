import { DevenvError } from '../errors.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

/**
 * What each runtime can run, said at `validate` rather than discovered halfway through `up`:
 * an envfile asking the bundled runtime for an image or a Dockerfile build is refused where it asks.
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
    if (service.image !== undefined) {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service.name}: image: ${service.image} needs the docker runtime in this version of devenv`,
        {
          location: source.locate(['services', service.name, 'image']),
          hint: 'Add `runtime: docker` at the top of devenv.yaml (or run `devenv up --runtime docker`), or give the service a `box:` or a `command:`.',
        },
      )
    }
  }
}
