import type { EnvSpec } from '../../envfile/index.js'
import type { Endpoint } from '../driver.js'
import { resolveDatabase } from './references.js'

/**
 * The libpq variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE) that point psql,
 * pg_dump and any libpq program at one of a running postgres service's databases (the first
 * declared unless named), as `lando psql` and DDEV set them. Empty for a service without databases.
 */
export function postgresClientEnvironment(spec: EnvSpec, serviceName: string, endpoint: Endpoint, databaseName?: string): Record<string, string> {
  const service = spec.services[serviceName]
  if (service?.kind !== 'postgres' || !service.postgres?.databases.length) return {}
  const ref = resolveDatabase(spec, serviceName, databaseName)
  return {
    PGHOST: endpoint.address,
    PGPORT: String(endpoint.port(ref.settings.port)),
    PGUSER: ref.database.user,
    PGPASSWORD: ref.database.password,
    PGDATABASE: ref.database.name,
  }
}
