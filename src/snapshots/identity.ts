import { capabilitiesOf } from '../boxes/index.js'
import type { ServiceSpec } from '../envfile/index.js'

export interface BoxIdentity {
  /** As the envfile writes it: `postgres`, `mydb:v2`. */
  box: string
  kind: string
  /** What decides whether saved state can be read back: for postgres the cluster's major version. */
  boxVersion: string
}

/** The box a service's state belongs to, and the version of that state as the box tells it (1 for devenv's own formats). */
export function serviceBoxIdentity(service: ServiceSpec, dataDir: string): BoxIdentity {
  // An image service's state is a layer over its image: it belongs to that image.
  const box = service.image ?? (service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name)
  return { box, kind: service.kind, boxVersion: capabilitiesOf(service.kind).stateVersion?.(service, dataDir) ?? '1' }
}
