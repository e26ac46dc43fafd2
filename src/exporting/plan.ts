import { DevenvError } from '../errors.js'
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

/**
 * The planner the commands export with. The docker provider's planner (runtime/index.ts, a layer
 * below) takes the place of noBoxPlanner here when it is in: this is the one line to change.
 */
export const boxPlanner: BoxContainerPlanner = noBoxPlanner
