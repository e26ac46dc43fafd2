import type { EnvSpec } from '../envfile/model.js'
import { DevenvError } from '../errors.js'
import { BundledRuntime } from './bundled/client.js'
import type { Runtime } from './runtime.js'

export type { Runtime, ServiceEvent, ServicePhase, UpOptions, UpResult } from './runtime.js'
/** The project's supervisor when it is alive (pid, socket), for commands that look across projects. */
export { liveSupervisor as projectSupervisor } from './bundled/recovery.js'
/** Service logs as the runtime keeps them. */
export { followLog, mergeByTime, readServiceLog, type ServiceLogLine } from './bundled/log-reader.js'

/** The runtime the envfile asks for. */
export function runtimeFor(spec: EnvSpec): Runtime {
  switch (spec.runtime) {
    case 'bundled':
      return new BundledRuntime()
    case 'docker':
      throw new DevenvError('RUNTIME', 'the docker runtime is not available in this version of devenv', {
        hint: 'Remove `runtime: docker` from devenv.yaml to use the bundled runtime.',
      })
  }
}
