import { describeBox } from '../boxes/catalog.js'
import type { EnvSpec, ServiceSpec } from '../envfile/model.js'
import { DevenvError } from '../errors.js'
import { ProjectPaths } from '../state/paths.js'
import { didYouMean } from '../util/suggest.js'
import { serviceBoxIdentity } from './identity.js'
import { quiesceService, type QuiescePurpose } from './quiesce.js'
import type { SetMember } from './sets.js'

/** A service of the project, checked to exist and to keep state. */
export function statefulService(spec: EnvSpec, name: string): ServiceSpec {
  const service = spec.services[name]
  const names = Object.keys(spec.services)
  if (!service) throw new DevenvError('USAGE', `no service ${name} in ${spec.file}${didYouMean(name, names)}`, { hint: `Services: ${names.join(', ')}.` })
  if (!describeBox(service.kind).stateful) {
    throw new DevenvError('USAGE', `service ${name} (box ${service.kind}) keeps no state to snapshot`, { hint: `Stateful services: ${statefulNames(spec).join(', ') || 'none'}.` })
  }
  return service
}

export function statefulNames(spec: EnvSpec): string[] {
  return Object.values(spec.services)
    .filter((service) => describeBox(service.kind).stateful)
    .map((service) => service.name)
}

/** What the snapshot functions need to know of one service of this project. */
export function snapshotMember(spec: EnvSpec, name: string, purpose: QuiescePurpose): SetMember {
  const service = statefulService(spec, name)
  const paths = new ProjectPaths(spec.root)
  return { service: name, ...serviceBoxIdentity(service, paths.serviceData(name)), quiesce: quiesceService(spec, name, purpose) }
}

export function allSnapshotMembers(spec: EnvSpec, purpose: QuiescePurpose): SetMember[] {
  return statefulNames(spec).map((name) => snapshotMember(spec, name, purpose))
}
