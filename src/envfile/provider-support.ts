import { DevenvError } from '../errors.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

/**
 * What this version of devenv can run, said at `validate` rather than discovered halfway through
 * `up`: the docker provider is not built yet, and OCI images run on the bundled runtime on Linux
 * only, so an envfile asking for them elsewhere is refused where it asks, instead of failing later.
 */
export function checkProviderSupport(spec: EnvSpec, source: EnvfileSource): void {
  if (spec.runtime !== 'bundled') {
    throw new DevenvError('ENVFILE_INVALID', `runtime: ${spec.runtime} is not available in this version of devenv`, {
      location: source.locate(['runtime']),
      hint: 'Remove the `runtime:` line to use the bundled runtime, which runs every built-in box.',
    })
  }
  // The bundled runtime runs images itself on Linux (namespaces, overlayfs); elsewhere only the docker provider can.
  if (process.platform === 'linux') return
  for (const service of Object.values(spec.services)) {
    if (service.image !== undefined) {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service.name}: image: ${service.image} needs Linux on the bundled runtime`,
        {
          location: source.locate(['services', service.name, 'image']),
          hint: 'Use runtime: docker to run images on this system.',
        },
      )
    }
  }
}
