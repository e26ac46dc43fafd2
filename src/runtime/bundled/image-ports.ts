import type { EnvSpec } from '../../envfile/index.js'
import { parseImageReference, pullImage, readConfig, readImageRecord, storedName } from '../../images/index.js'
import { withImagePorts } from '../../spec/index.js'
import { checkPlatform, imageHealth } from './image-service.js'

/**
 * The project as the supervisor runs it: every image service whose envfile gives no ports gets
 * its image's ExposedPorts (spec/image-ports.ts), before anything starts, so that its peers'
 * namespaces and /etc/hosts know them as they know declared ports. Images of the services to
 * start are pulled here when the store lacks them; one that cannot be had is left as written,
 * and its start says why.
 */
export async function withImagesPorts(
  spec: EnvSpec,
  starting: readonly string[],
  onPhase: (service: string, message: string) => void,
): Promise<{ spec: EnvSpec; notes: Map<string, string[]> }> {
  const notes = new Map<string, string[]>()
  const services = { ...spec.services }
  for (const service of Object.values(spec.services)) {
    if (!service.image || service.ports.length) continue
    try {
      const name = storedName(parseImageReference(service.image))
      let record = readImageRecord(name)
      if (!record && starting.includes(service.name)) {
        checkPlatform(service.name)
        onPhase(service.name, `pulling ${service.image}`)
        record = (await pullImage(service.image)).image
      }
      if (!record) continue
      const config = (await readConfig(record)).config ?? {}
      const resolved = withImagePorts(service, {
        exposed: Object.keys(config.ExposedPorts ?? {}),
        healthcheck: imageHealth(config.Healthcheck) !== undefined,
      })
      services[service.name] = resolved.service
      if (resolved.notes.length) notes.set(service.name, resolved.notes)
    } catch {
      // Said by the service's own start, which pulls again and fails with the reason.
    }
  }
  return { spec: { ...spec, services }, notes }
}
