import type { EnvSpec } from '../envfile/index.js'
import { usage } from '../errors.js'
import { runtimeFor } from '../engine/index.js'
import { ProjectPaths } from '../state/index.js'
import {
  allSnapshotMembers,
  formatBytes,
  restoreSnapshot,
  restoreSnapshotSet,
  snapshotMember,
  type RestoreResult,
} from '../snapshots/index.js'
import type { CommandOutput } from './command-output.js'
import { colors } from './output.js'

export interface RestoreRequest {
  all: boolean
  /** The service; with --all, the name of the set. */
  service: string
  name: string | undefined
  force: boolean
}

/** `devenv snapshot restore`, whichever route runs it. */
export async function restoreAndReport(
  spec: EnvSpec,
  { all, service, name, force }: RestoreRequest,
  out: CommandOutput,
): Promise<{ restored: RestoreResult[] }> {
  const paths = new ProjectPaths(spec.root)
  let restored: RestoreResult[]
  if (all) {
    if (name !== undefined)
      throw usage('with --all, give only the name of the set', 'devenv snapshot restore --all NAME')
    restored = await restoreSnapshotSet(paths, allSnapshotMembers(runtimeFor(spec), spec, 'restore'), service, force)
  } else {
    if (!name)
      throw usage(
        'name the snapshot to restore',
        `devenv snapshot restore ${service} NAME (see devenv snapshot list ${service})`,
      )
    const member = snapshotMember(runtimeFor(spec), spec, service, 'restore')
    restored = [await restoreSnapshot({ paths, ...member, name, force })]
  }
  for (const result of restored) {
    const how =
      result.fromSpare === undefined
        ? `stopped for ${result.downtimeMs} ms`
        : `databases swapped in ${result.downtimeMs} ms${result.fromSpare ? ', from the ready copy' : ''}`
    out.log(
      `${colors.green('✔')} restored ${result.service} from snapshot ${colors.bold(result.snapshot)} (${formatBytes(result.size)}, verified; ${how})`,
    )
  }
  return { restored }
}
