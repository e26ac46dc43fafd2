import type { EnvSpec } from '../../envfile/index.js'
import type { Endpoint } from '../driver.js'
import { DevenvError } from '../../errors.js'
import { ProjectPaths } from '../../state/index.js'
import type { CopyRecord, PreparedSwap, ServiceCopies } from '../capabilities.js'
import { withConnection, type ServerTarget } from './connection.js'
import { serverTargetOf } from './operations.js'
import { resolveDatabase } from './references.js'
import { type CrashPoint, dropCopies, forgetCopiesExcept, notStatePaths, prepareSwap, recoverDatabases, saveCopies } from './snapshot-copies.js'

/**
 * The postgres box's side of snapshots kept inside the service: the declared databases of
 * `serviceName`, copied and swapped inside its cluster. `endpoint` is undefined when the service
 * is not running: then copies can only be unregistered (the upkeep drops them at its next start).
 */
export function postgresServiceCopies(spec: EnvSpec, serviceName: string, endpoint: Endpoint | undefined, crashPoint: CrashPoint): ServiceCopies {
  const dataDir = new ProjectPaths(spec.root).serviceData(serviceName)
  const ref = resolveDatabase(spec, serviceName, undefined)
  const databases = ref.settings.databases.map((database) => database.name)
  const target = (): ServerTarget | undefined => (endpoint ? serverTargetOf(spec, ref, endpoint) : undefined)
  const required = (): ServerTarget => {
    if (!endpoint) throw new DevenvError('DATABASE', `service ${serviceName} is not running`, { hint: `Start it with \`devenv up ${serviceName}\`.` })
    return serverTargetOf(spec, ref, endpoint)
  }
  return {
    save: (id: string, snapshot: string): Promise<CopyRecord[]> => saveCopies(required(), dataDir, databases, id, snapshot, crashPoint),
    prepare: (copies: CopyRecord[]): Promise<PreparedSwap> => prepareSwap(required(), dataDir, copies, crashPoint),
    drop: (copies: string[]) => dropCopies(target(), dataDir, copies),
    recover: async (keep: Set<string>) => {
      const server = target()
      if (server) await withConnection(server, 'postgres', (admin) => recoverDatabases(admin, databases))
      await forgetCopiesExcept(server, dataDir, keep)
    },
    notState: () => notStatePaths(target(), dataDir, databases, crashPoint),
  }
}
