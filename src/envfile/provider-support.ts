import { DevenvError } from '../errors.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

/**
 * What this version of devenv can run, said at `validate` rather than discovered halfway through
 * `up`: the docker provider and OCI images are not built yet, so an envfile asking for them is
 * refused where it asks, instead of failing later or being silently ignored.
 */
export function checkProviderSupport(spec: EnvSpec, source: EnvfileSource): void {
  if (spec.runtime !== 'bundled') {
    throw new DevenvError('ENVFILE_INVALID', `runtime: ${spec.runtime} is not available in this version of devenv`, {
      location: source.locate(['runtime']),
      hint: 'Remove the `runtime:` line to use the bundled runtime, which runs every built-in box.',
    })
  }
  for (const service of Object.values(spec.services)) {
    if (service.image !== undefined) {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service.name}: image: ${service.image} cannot run yet: this version of devenv runs built-in boxes and commands, not OCI images`,
        {
          location: source.locate(['services', service.name, 'image']),
          hint: `Give ${service.name} a \`box:\` (postgres, node, static, lb, mail, ftp) or a \`command:\` instead.`,
        },
      )
    }
  }
}
