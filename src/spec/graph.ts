import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { didYouMean } from '../util/suggest.js'

/** The named services and everything they depend on, transitively; all services when none are named. */
export function withDependencies(spec: EnvSpec, names: readonly string[]): string[] {
  if (names.length === 0) return Object.keys(spec.services)
  names = resolveServiceNames(spec, names)
  const wanted = new Set<string>()
  const add = (name: string): void => {
    if (wanted.has(name)) return
    wanted.add(name)
    for (const dependency of spec.services[name]!.dependsOn) add(dependency.service)
  }
  names.forEach(add)
  return Object.keys(spec.services).filter((name) => wanted.has(name))
}

/** The named services and everything that depends on them, transitively (what must stop with them). */
export function withDependents(spec: EnvSpec, names: readonly string[]): string[] {
  if (names.length === 0) return Object.keys(spec.services)
  names = resolveServiceNames(spec, names)
  const wanted = new Set<string>(names)
  let grew = true
  while (grew) {
    grew = false
    for (const service of Object.values(spec.services)) {
      if (!wanted.has(service.name) && service.dependsOn.some((dependency) => wanted.has(dependency.service))) {
        wanted.add(service.name)
        grew = true
      }
    }
  }
  return Object.keys(spec.services).filter((name) => wanted.has(name))
}

/**
 * Stops `names` with `stop`, each once every one of them that depends on it has stopped, and no
 * later: unlike layer by layer, a service nothing depends on stops at once, beside the slowest.
 * A stop that fails does not hold back the others (what depends on it counts as stopped); the
 * failures are returned, for the caller to report or not.
 */
export async function stopDependentsFirst(
  spec: EnvSpec,
  names: readonly string[],
  stop: (name: string) => Promise<unknown>,
): Promise<unknown[]> {
  const stopped = new Map<string, Promise<unknown>>()
  // Dependents first, so each one's promise exists before what it depends on waits for it.
  for (const name of stopLayers(spec, names).flat()) {
    const dependents = names.filter((other) =>
      spec.services[other]!.dependsOn.some((dependency) => dependency.service === name),
    )
    stopped.set(
      name,
      Promise.allSettled(dependents.map((dependent) => stopped.get(dependent)!)).then(() => stop(name)),
    )
  }
  const outcomes = await Promise.allSettled(stopped.values())
  return outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []))
}

/** Layers for stopping: dependents before what they depend on. */
export function stopLayers(spec: EnvSpec, names: readonly string[]): string[][] {
  return startLayers(spec, names).reverse()
}

/**
 * Layers for starting: each layer depends only on earlier ones, so a layer can start in parallel.
 * Within a layer, the service with the longest chain of dependents after it comes first: its start
 * is the one the whole `up` waits on, so it gets the cores before the services nothing waits for.
 */
export function startLayers(spec: EnvSpec, names: readonly string[]): string[][] {
  const remaining = new Set(names)
  const layers: string[][] = []
  while (remaining.size > 0) {
    const layer = [...remaining].filter((name) =>
      spec.services[name]!.dependsOn.every((dependency) => !remaining.has(dependency.service)),
    )
    if (layer.length === 0)
      throw new DevenvError('ENVFILE_INVALID', `dependency cycle among ${[...remaining].join(', ')}`)
    layer.forEach((name) => remaining.delete(name))
    layers.push(layer)
  }
  const chain = dependentChains(spec, names)
  return layers.map((layer) => layer.sort((a, b) => chain.get(b)! - chain.get(a)!))
}

/** For each of `names`, how many services long the longest chain of its dependents among `names` is. */
function dependentChains(spec: EnvSpec, names: readonly string[]): Map<string, number> {
  const chain = new Map<string, number>()
  const lengthAfter = (name: string): number => {
    const known = chain.get(name)
    if (known !== undefined) return known
    chain.set(name, 0)
    const dependents = names.filter((other) =>
      spec.services[other]!.dependsOn.some((dependency) => dependency.service === name),
    )
    const length = Math.max(0, ...dependents.map((dependent) => 1 + lengthAfter(dependent)))
    chain.set(name, length)
    return length
  }
  names.forEach(lengthAfter)
  return chain
}

export function checkNames(spec: EnvSpec, names: readonly string[]): void {
  const known = Object.keys(spec.services)
  for (const name of names) {
    if (spec.services[name]) continue
    const instances = replicasOf(spec, name)
    if (instances.length > 0) {
      throw new DevenvError(
        'USAGE',
        `${name} runs as ${instances.length} replicas (${instances.join(', ')}); this command takes one of them`,
        { hint: `e.g. ${instances[0]}` },
      )
    }
    throw new DevenvError('USAGE', `no service named "${name}"${didYouMean(name, known)}`, {
      hint: `Services in ${spec.file}: ${known.join(', ')}.`,
    })
  }
}

/**
 * The services the names mean, checked: a replicated service's name (www) stands for all its
 * instances (www-1 … www-N), so `logs www` or `stop www` reach every one.
 */
export function resolveServiceNames(spec: EnvSpec, names: readonly string[]): string[] {
  const resolved = names.flatMap((name) => (spec.services[name] ? [name] : replicasOf(spec, name)))
  checkNames(
    spec,
    names.filter((name) => !spec.services[name] && replicasOf(spec, name).length === 0),
  )
  return [...new Set(resolved)]
}

/** The instances of a service written with replicas, in order; empty for any other name. */
export function replicasOf(spec: EnvSpec, name: string): string[] {
  return Object.values(spec.services)
    .filter((service) => service.replica?.of === name)
    .map((service) => service.name)
}
