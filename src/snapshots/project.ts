import { describeBox } from '../envfile/index.js'
import type { EnvSpec, ServiceSpec } from '../envfile/index.js'
import type { Runtime } from '../runtime/index.js'
import { DevenvError } from '../errors.js'
import { ProjectPaths } from '../state/index.js'
import { didYouMean } from '../util/suggest.js'
import { serviceBoxIdentity } from './identity.js'
import { openServiceCopies } from './open-copies.js'
import { quiesceService, type QuiescePurpose } from './quiesce.js'
import type { OpenServiceCopies } from './service-copies.js'
import type { SetMember } from './sets.js'

/** A service of the project, checked to exist and to keep state. */
export function statefulService(spec: EnvSpec, name: string): ServiceSpec {
  const service = spec.services[name]
  const names = Object.keys(spec.services)
  if (!service)
    throw new DevenvError('USAGE', `no service ${name} in ${spec.file}${didYouMean(name, names)}`, {
      hint: `Services: ${names.join(', ')}.`,
    })
  if (!keepsState(service)) {
    throw new DevenvError('USAGE', `service ${name} (box ${service.kind}) keeps no state to snapshot`, {
      hint: `Stateful services: ${statefulNames(spec).join(', ') || 'none'}.`,
    })
  }
  return service
}

/**
 * A stateful box, or a service run from an image: its state is its writable layer (bundled
 * runtime) or its data folder (DEVENV_DATA, /devenv/data in its container on the docker runtime).
 */
function keepsState(service: ServiceSpec): boolean {
  return describeBox(service.kind).stateful || service.image !== undefined || service.imageBuild !== undefined
}

export function statefulNames(spec: EnvSpec): string[] {
  return Object.values(spec.services)
    .filter(keepsState)
    .map((service) => service.name)
}

/** What the snapshot functions need to know of one service of this project. */
export function snapshotMember(runtime: Runtime, spec: EnvSpec, name: string, purpose: QuiescePurpose): SetMember {
  const service = statefulService(spec, name)
  const paths = new ProjectPaths(spec.root)
  const copies = openServiceCopies(runtime, spec, name)
  return {
    service: name,
    ...serviceBoxIdentity(service, paths.serviceData(name)),
    quiesce: quiesceService(runtime, spec, name, purpose),
    ...(copies ? { copies } : {}),
    // Mail replaces its files and never rewrites one: its snapshots hard-link them.
    ...(describeBox(service.kind).immutableFiles ? { linkFiles: true } : {}),
  }
}

/** How to reach the copies a service keeps inside itself; undefined for a service of the files kind, or one no longer in the envfile. */
export function serviceCopiesOf(runtime: Runtime, spec: EnvSpec, name: string): OpenServiceCopies | undefined {
  return openServiceCopies(runtime, spec, name)
}

export function allSnapshotMembers(runtime: Runtime, spec: EnvSpec, purpose: QuiescePurpose): SetMember[] {
  return statefulNames(spec).map((name) => snapshotMember(runtime, spec, name, purpose))
}
