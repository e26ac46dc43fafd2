import type { UpResult } from '../runtime/index.js'

/**
 * The headline of a failed `up` or `restart`: the service's own reason when it recorded one (a
 * seed's file:line and PostgreSQL's message), rather than the generic "service db stopped".
 */
export function failureHeadline(result: UpResult): string {
  const failed = result.failed
  if (!failed) return 'a service failed'
  return result.services.find((service) => service.name === failed.service)?.message ?? failed.message
}
