import { driverFor } from '../../boxes/index.js'
import { commandProbe, httpProbe, tcpProbe, type Probe } from '../probes.js'
import { containerServiceContext, readBoxContext } from './box-context.js'

/**
 * A box container's health check where the engine runs it (a Compose or Swarm healthcheck, a
 * Kubernetes readiness probe): the service's own check, from inside, with the box's own probe for
 * `health: box`. The box image has no wget or nc; it has Node. Exits 0 when ready.
 */
async function main(): Promise<number> {
  const { box, service } = readBoxContext()
  const check = service.health?.check
  const timeoutMs = service.health?.timeoutMs ?? 2000
  let probe: Probe
  switch (check?.kind) {
    case undefined:
      return 0
    case 'tcp':
      probe = tcpProbe('127.0.0.1', check.port)
      break
    case 'http':
      probe = httpProbe('127.0.0.1', check.port, check.path, check.status)
      break
    case 'command':
      probe = commandProbe(check.command, box.env, service.workdir)
      break
    case 'box': {
      const driver = await driverFor(service.kind)
      const context = containerServiceContext(box, service, () => {}, new AbortController().signal)
      probe = driver.probe
        ? () => driver.probe!({ ...context, address: '127.0.0.1' })
        : tcpProbe('127.0.0.1', service.ports[0] ?? 0)
    }
  }
  const result = await probe(timeoutMs)
  if (!result.ok) process.stderr.write(`${result.reason}\n`)
  return result.ok ? 0 : 1
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`devenv probe: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  },
)
