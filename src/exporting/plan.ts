import { DevenvError } from '../errors.js'
import { boxContainer, buildBoxImage } from '../runtime/index.js'
import type { EnvSpec, ServiceSpec } from '../envfile/index.js'

/** A mount of a container: a host path (inside the project) or, when not absolute, a named volume. */
export interface ContainerMount {
  source: string
  target: string
  readonly: boolean
}

/** How a built-in box runs as a container: the docker provider's answer, shared with the exporters. */
export interface BoxContainerPlan {
  /** An image devenv builds locally (never pulled). */
  image: string
  /** The whole command line of the container, as words. */
  command: string[]
  env: Record<string, string>
  user?: string
  mounts: ContainerMount[]
  /** How to build `image` on the machine that runs the export (a command to copy, said to the user). */
  buildHint: string
  /** A command in the image that runs the service's own health check from inside (exit 0: ready). */
  probe?: string[]
}

/**
 * Plans the container of a service that has no `image:` (a built-in box, or a command run on
 * the bundled runtime). The docker provider supplies the real one (runtime/index.ts); exporters
 * take it as a parameter so they never depend on a provider.
 */
export type BoxContainerPlanner = (spec: EnvSpec, service: ServiceSpec) => BoxContainerPlan

/**
 * The planner until a provider that runs boxes as containers is there: a service without an
 * image cannot be exported, and the error says which one and what to write instead.
 */
export const noBoxPlanner: BoxContainerPlanner = (_spec, service) => {
  throw new DevenvError(
    'EXPORT',
    `service ${service.name} (${service.kind === 'process' ? 'a command' : `box ${service.kind}`}) cannot be exported yet: this version of devenv has no container image for it`,
    {
      hint: `Give ${service.name} an image: (and build: with a Dockerfile) to export it; built-in boxes export once the docker provider is in.`,
    },
  )
}

/** The planner the commands export with: the docker provider's, so a box runs as it does under `runtime: docker`. */
export const boxPlanner: BoxContainerPlanner = (spec, service) => boxContainer(spec, service)

/** Builds devenv's box image on the engine when some service of the envfile runs in it (a built-in box, a command). */
export async function buildBoxImageIfUsed(
  spec: EnvSpec,
  progress: (message: string) => void,
): Promise<string | undefined> {
  if (!Object.values(spec.services).some((service) => service.image === undefined && service.imageBuild === undefined))
    return undefined
  return buildBoxImage(progress)
}
