import { readFileSync } from 'node:fs'
import path from 'node:path'
import { usage } from '../../errors.js'
import type { BoxCapabilities } from '../capabilities.js'
import { serverMajorVersion } from './binaries.js'
import { clusterDir } from './layout.js'
import { postgresClientEnvironment } from './client-env.js'
import { connectionUrl, databaseUrls } from './references.js'

export const postgresCapabilities: BoxCapabilities = {
  // What a restored folder must match is the cluster's own version (PG_VERSION), once it exists.
  stateVersion(service, dataDir) {
    try {
      return readFileSync(path.join(clusterDir(dataDir), 'PG_VERSION'), 'utf8').trim()
    } catch {
      // No cluster yet: it will be made by the bundled server.
    }
    try {
      return String(serverMajorVersion())
    } catch {
      return service.postgres?.version?.split('.')[0] ?? 'unknown'
    }
  },

  // Snapshots are template databases in the service's own cluster: restore is a rename, not a file copy and a restart.
  async serviceCopies(spec, service, endpoint, crashPoint) {
    const { postgresServiceCopies } = await import('./snapshot-access.js')
    return postgresServiceCopies(spec, service, endpoint, crashPoint)
  },

  checkSnapshottable(spec, service) {
    if (!spec.services[service]?.postgres?.databases.length) {
      throw usage(`service ${service} declares no databases, so its snapshots would hold nothing`, `Declare the databases to keep under services.${service}.databases in ${spec.file} (docs/postgres.md).`)
    }
  },

  urls: databaseUrls,

  clientEnvironment: postgresClientEnvironment,

  shell(spec, service, endpoint, { database }) {
    return {
      command: 'psql',
      args: [connectionUrl(spec, service, database, { showSecrets: true, endpoint })],
      whenMissing: `psql is not installed. Connect with any PostgreSQL client to:\n  ${connectionUrl(spec, service, database, { endpoint })}\n(the password is in devenv.yaml; \`devenv config --show-secrets\` prints it)`,
    }
  },
}
