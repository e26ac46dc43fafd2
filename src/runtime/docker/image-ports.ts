import type { ServiceSpec } from '../../envfile/index.js'
import { withImagePorts } from '../../spec/index.js'

/** What the engine says of an image's (or its container's) config, as far as ports and health go. */
export interface EngineConfig {
  ExposedPorts?: Record<string, unknown> | null
  Healthcheck?: { Test?: string[] } | null
}

/**
 * The service as the engine runs it: an image service whose envfile gives no ports publishes its
 * image's ExposedPorts at its address (spec/image-ports.ts). The image's config when the
 * container is planned; the container's afterwards (devenv adds no ports of its own to it then).
 */
export function withEnginePorts(
  service: ServiceSpec,
  config: EngineConfig | undefined,
): { service: ServiceSpec; notes: string[] } {
  if (!config) return { service, notes: [] }
  const test = config.Healthcheck?.Test ?? []
  return withImagePorts(service, {
    exposed: Object.keys(config.ExposedPorts ?? {}),
    healthcheck: test.length > 1 && test[0] !== 'NONE',
  })
}
