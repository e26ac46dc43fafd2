import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1'
import { ConfigMap, PersistentVolumeClaim, Secret, Service } from 'kubernetes-models/v1'
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1'
import type { KubernetesObject } from './objects.js'

interface Validating {
  validate(): void
}

const MODELS: Record<KubernetesObject['kind'], new (data: never) => Validating> = {
  Deployment,
  StatefulSet,
  Service,
  ConfigMap,
  Secret,
  PersistentVolumeClaim,
  Ingress,
}

/**
 * What is wrong with an object, by the Kubernetes OpenAPI schema kubernetes-models compiles, and
 * by the fields it does not know: its validation accepts unknown fields (the API server drops
 * them, so a misspelt `readinessprobe` would vanish without a word). The schema's validator reads
 * every field it knows; whatever it never read is unknown.
 */
export function kubernetesProblems(object: KubernetesObject): string[] {
  const Model = MODELS[object.kind]
  if (!Model) return [`kind ${String(object.kind)} is not one devenv writes`]
  const problems: string[] = []
  const reads = new WeakMap<object, Set<PropertyKey>>()
  // The model copies the data and drops undefined fields; validating a traced copy of what it
  // holds records every field the schema reads.
  const copy = JSON.parse(JSON.stringify(new Model(object as never))) as object
  try {
    Model.prototype.validate.call(traced(copy, reads))
  } catch (error) {
    problems.push((error as Error).message)
  }
  problems.push(...unknownFields(copy, reads, ''))
  return problems
}

function traced<T extends object>(target: T, reads: WeakMap<object, Set<PropertyKey>>): T {
  reads.set(target, reads.get(target) ?? new Set())
  return new Proxy(target, {
    get(object, key, receiver) {
      reads.get(object)!.add(key)
      const value: unknown = Reflect.get(object, key, receiver)
      return value !== null && typeof value === 'object' ? traced(value, reads) : value
    },
  })
}

/** Fields the validator never read, as paths (an unknown object is named once, not its insides). */
function unknownFields(value: unknown, reads: WeakMap<object, Set<PropertyKey>>, at: string): string[] {
  if (value === null || typeof value !== 'object') return []
  if (Array.isArray(value)) return value.flatMap((item, index) => unknownFields(item, reads, `${at}[${index}]`))
  const read = reads.get(value)
  if (!read) return []
  return Object.entries(value).flatMap(([key, item]) =>
    read.has(key) ? unknownFields(item, reads, `${at}.${key}`) : [`${at}.${key}: unknown field`],
  )
}
