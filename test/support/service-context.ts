import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { ServiceContext } from '../../src/boxes/driver.js'
import type { EnvSpec } from '../../src/envfile/model.js'

/**
 * The ServiceContext the runtime would give a box's driver, for tests that drive one box on its
 * own: the project's .devenv folders, an address of the test's, and a port mapping of its choice.
 */
export function testServiceContext(
  spec: EnvSpec,
  service: string,
  address: string,
  port: (declared: number) => number,
): ServiceContext {
  const base = path.join(spec.root, '.devenv', 'services', service)
  const runDir = path.join(base, 'run')
  mkdirSync(runDir, { recursive: true })
  return {
    project: { name: spec.name, root: spec.root, domain: spec.domain },
    service: spec.services[service]!,
    address,
    port,
    dataDir: path.join(base, 'data'),
    runDir,
    machineHome: path.join(spec.root, 'home'),
    env: { PATH: process.env.PATH ?? '', DEVENV_SERVICE: service },
    log: () => {},
    peer: () => undefined,
    endpoint: () => {
      throw new Error('not used')
    },
    signal: new AbortController().signal,
  }
}
