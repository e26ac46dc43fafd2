import type { Endpoint } from '../boxes/driver.js'
import type { EnvSpec } from '../envfile/model.js'
import { DevenvError } from '../errors.js'
import { readProjectState } from '../state/project-state.js'

/** Where a running service of the project can be reached, from the state the supervisor keeps. */
export function serviceEndpoint(spec: EnvSpec, service: string): Endpoint {
  if (!spec.services[service]) {
    throw new DevenvError('USAGE', `no service named ${service} in ${spec.file}`, { hint: `Services: ${Object.keys(spec.services).join(', ')}.` })
  }
  const state = readProjectState(spec.root)?.services[service]
  if (!state || (state.state !== 'running' && state.state !== 'starting')) {
    throw new DevenvError('NOT_FOUND', `service ${service} is not running`, { hint: `Start it with \`devenv up ${service}\`.` })
  }
  return {
    address: state.address,
    port: (declared) => state.ports.find((entry) => entry.port === declared)?.bound ?? declared,
  }
}
