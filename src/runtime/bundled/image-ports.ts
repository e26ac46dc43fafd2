import type { EnvSpec } from '../../envfile/index.js'
import { withImagePorts } from '../../spec/index.js'

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
  const portless = Object.values(spec.services).filter(
    (service): service is typeof service & { image: string } => !!service.image && !service.ports.length,
  )
  // The image store and its tar reader load only for a project that has such a service.
  if (!portless.length) return { spec, notes }
  const { parseImageReference, pullImage, readConfig, readImageRecord, storedName } =
    await import('../../images/index.js')
  const { checkPlatform, imageHealth } = await import('./image-service.js')
  const services = { ...spec.services }
  for (const service of portless) {
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
