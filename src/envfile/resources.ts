import { DevenvError } from '../errors.js'
import { parseSize } from '../util/duration.js'
import type { ResourceLimits } from './model.js'
import type { EnvfileSource, FieldPath } from './source.js'

export interface RawResources {
  memory?: string | number
  cpus?: number | string
}

/** `resources: { memory: 512m, cpus: 1.5 }` → bytes and CPUs; a malformed value names its line. */
export function normaliseResources(
  raw: RawResources,
  at: FieldPath,
  source: EnvfileSource,
  service: string,
): ResourceLimits {
  const limits: ResourceLimits = {}
  if (raw.memory !== undefined) {
    let bytes: number
    try {
      bytes = parseSize(raw.memory)
    } catch {
      bytes = Number.NaN
    }
    if (!Number.isFinite(bytes) || bytes < 4 * 1024 * 1024)
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service}: resources.memory "${raw.memory}" is not a size of at least 4m`,
        {
          location: source.locate([...at, 'memory']),
          hint: 'Write it as 512m, 1g or a number of bytes.',
        },
      )
    limits.memoryBytes = bytes
  }
  if (raw.cpus !== undefined) {
    const cpus = Number(raw.cpus)
    if (!Number.isFinite(cpus) || cpus < 0.01 || cpus > 1024)
      throw new DevenvError(
        'ENVFILE_INVALID',
        `service ${service}: resources.cpus "${raw.cpus}" is not a number of CPUs (0.01 or more)`,
        {
          location: source.locate([...at, 'cpus']),
          hint: 'Write it as 1, 0.5 or 1.5.',
        },
      )
    limits.cpus = cpus
  }
  return limits
}
