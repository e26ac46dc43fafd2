import type { Endpoint } from '../boxes/index.js'
import { DevenvError } from '../errors.js'
import type { ServiceState } from '../state/index.js'

/** What every provider's service handle reads the same way from a service's state. */
export function isActive(state: ServiceState): boolean {
  return state.state === 'running' || state.state === 'starting'
}

/** Where a service answers, by the ports it bound (the same as declared, but where a fallback was needed). */
export function endpointOf(state: ServiceState): Endpoint {
  return {
    address: state.address,
    port: (declared) => state.ports.find((entry) => entry.port === declared)?.bound ?? declared,
  }
}

/** The state of a service that must run for what is asked of it; NOT_FOUND, saying how to start it, otherwise. */
export function requireRunning(state: ServiceState, name: string): ServiceState {
  if (!isActive(state)) {
    throw new DevenvError('NOT_FOUND', `service ${name} is not running`, {
      hint: `Start it with \`devenv up ${name}\`.`,
    })
  }
  return state
}
