import type { BoxKind, HealthCheck, ServiceSpec } from '../../envfile/index.js'
import type { TreeEntry } from '../../util/tree.js'

export const BOX_FORMAT = 'devenv-box/1'

/** What a committed box keeps of the service it was made from: the parts that describe the state, no host paths or commands. */
export interface BoxRecipe {
  ports: number[]
  health?: HealthCheck
  postgres?: { version?: string; port: number; databases: Array<{ name: string; user: string; password: string }>; settings: Record<string, string> }
  mail?: { accounts: string[]; catchAll: boolean; maxSizeBytes: number }
}

/** box.json of a committed box. */
export interface BoxRecord {
  format: typeof BOX_FORMAT
  name: string
  tag: string
  /** The built-in box it is at heart: decides the driver. */
  kind: BoxKind
  /** The box the service ran when it was committed, and its version. */
  baseBox: string
  baseVersion: string
  created: string
  size: number
  files: number
  /** Checksum of data/, as for snapshots (treeChecksum). */
  checksum: string
  recipe: BoxRecipe
  entries: TreeEntry[]
}

export function recipeOf(service: ServiceSpec): BoxRecipe {
  const recipe: BoxRecipe = { ports: [...service.ports] }
  if (service.health) recipe.health = service.health.check
  if (service.postgres) {
    const { version, port, databases, settings } = service.postgres
    // Seeds are dropped on purpose: the committed state already holds what they made.
    recipe.postgres = {
      ...(version ? { version } : {}),
      port,
      databases: databases.map(({ name, user, password }) => ({ name, user, password })),
      settings: { ...settings },
    }
  }
  if (service.mail) recipe.mail = { accounts: [...service.mail.accounts], catchAll: service.mail.catchAll, maxSizeBytes: service.mail.maxSizeBytes }
  return recipe
}

export type BoxSummary = Omit<BoxRecord, 'entries' | 'format'>

export function summaryOf(record: BoxRecord): BoxSummary {
  const { entries: _entries, format: _format, ...summary } = record
  return summary
}
