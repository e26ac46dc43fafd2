import type { DatabaseSpec, EnvSpec, PostgresSettings, ServiceSpec } from '../../envfile/index.js'
import { usage } from '../../errors.js'
import type { Endpoint } from '../driver.js'
import { readAddresses } from '../../state/index.js'

/*
 * Which database a command means, and its connection URL: no PostgreSQL client here, so that
 * `devenv status` and `devenv shell` do not load one.
 */

/** A postgres service of the project and one of its databases, resolved from command arguments. */
export interface DatabaseRef {
  service: ServiceSpec
  settings: PostgresSettings
  database: DatabaseSpec
}

export function resolveDatabase(spec: EnvSpec, serviceName: string | undefined, databaseName: string | undefined): DatabaseRef {
  const postgresServices = Object.values(spec.services).filter((service) => service.kind === 'postgres')
  let service: ServiceSpec | undefined
  if (serviceName) {
    service = spec.services[serviceName]
    if (!service) throw usage(`no service named ${serviceName} in ${spec.file}`, `PostgreSQL services: ${postgresServices.map((s) => s.name).join(', ') || 'none'}.`)
    if (service.kind !== 'postgres') throw usage(`service ${serviceName} is a ${service.kind} box, not postgres`)
  } else {
    if (postgresServices.length !== 1) throw usage(postgresServices.length ? `name the service: ${postgresServices.map((s) => s.name).join(', ')}` : `${spec.file} declares no postgres service`)
    service = postgresServices[0]!
  }
  const settings = service.postgres!
  const database = databaseName ? settings.databases.find((candidate) => candidate.name === databaseName) : settings.databases[0]
  if (!database) {
    const known = settings.databases.map((candidate) => candidate.name).join(', ') || 'none'
    throw usage(databaseName ? `service ${service.name} declares no database ${databaseName}` : `service ${service.name} declares no databases`, `Databases: ${known}.`)
  }
  return { service, settings, database }
}

export interface UrlOptions {
  showSecrets?: boolean
  /** Where the service answers, when it runs. */
  endpoint?: Endpoint
}

/**
 * postgresql://user:password@address:port/db of a database (the first one when none is named),
 * with the password masked unless `showSecrets`. Uses the running service's endpoint when
 * there is one, else its first hostname, else its allocated address.
 */
export function connectionUrl(spec: EnvSpec, serviceName: string, databaseName?: string, options: UrlOptions = {}): string {
  const ref = resolveDatabase(spec, serviceName, databaseName)
  const { endpoint } = options
  // Not running: its hostname, else the address it will get again (allocated once, kept).
  const host = endpoint?.address ?? ref.service.hostnames[0] ?? readAddresses(spec.root)[ref.service.name] ?? '127.0.0.1'
  const port = endpoint ? endpoint.port(ref.settings.port) : ref.settings.port
  const password = options.showSecrets ? encodeURIComponent(ref.database.password) : '****'
  return `postgresql://${encodeURIComponent(ref.database.user)}:${password}@${host}:${port}/${encodeURIComponent(ref.database.name)}`
}

/**
 * The connection URL of every database of a postgres service (for `devenv status`), password
 * masked unless `showSecrets`. Empty for a service that is not a postgres box.
 */
export function databaseUrls(spec: EnvSpec, serviceName: string, options: UrlOptions = {}): string[] {
  const service = spec.services[serviceName]
  if (service?.kind !== 'postgres' || !service.postgres) return []
  return service.postgres.databases.map((database) => connectionUrl(spec, serviceName, database.name, options))
}
