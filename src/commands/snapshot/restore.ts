import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { usage } from '../../errors.js'
import { ProjectPaths } from '../../state/index.js'
import {
  allSnapshotMembers,
  formatBytes,
  restoreSnapshot,
  restoreSnapshotSet,
  snapshotMember,
  type RestoreResult,
} from '../../snapshots/index.js'
import { runtimeFor } from '../../engine/index.js'

export default class SnapshotRestore extends BaseCommand<typeof SnapshotRestore> {
  static override summary = "Put a snapshot back as a service's state, atomically."
  static override description =
    'The snapshot is prepared beside the current state and verified against its checksums before anything changes; then it is swapped in by renaming. PostgreSQL keeps snapshots as databases in its own cluster, so its databases are swapped in one transaction while the server runs; other services are stopped for two folder renames. If anything kills the restore, the next start finds either the old state or the restored one, whole. A snapshot of another box or box version is refused unless --force.'
  static override examples = [
    '<%= config.bin %> snapshot restore db before-migration',
    '<%= config.bin %> snapshot restore --all before-upgrade',
    '<%= config.bin %> snapshot restore db old-pg16 --force',
  ]
  static override args = {
    service: Args.string({ description: 'service to restore (with --all: the name of the set)', required: true }),
    name: Args.string({ description: 'snapshot to restore' }),
  }
  static override flags = {
    ...projectFlags,
    all: Flags.boolean({ description: 'restore every stateful service from the set of that name' }),
    force: Flags.boolean({ description: 'restore even if the snapshot comes from another box or box version' }),
  }

  async run(): Promise<{ restored: RestoreResult[] }> {
    const spec = this.loadSpec()
    const paths = new ProjectPaths(spec.root)
    let restored: RestoreResult[]
    if (this.flags.all) {
      if (this.args.name !== undefined)
        throw usage('with --all, give only the name of the set', 'devenv snapshot restore --all NAME')
      restored = await restoreSnapshotSet(
        paths,
        allSnapshotMembers(runtimeFor(spec), spec, 'restore'),
        this.args.service,
        this.flags.force,
      )
    } else {
      if (!this.args.name)
        throw usage(
          'name the snapshot to restore',
          `devenv snapshot restore ${this.args.service} NAME (see devenv snapshot list ${this.args.service})`,
        )
      const member = snapshotMember(runtimeFor(spec), spec, this.args.service, 'restore')
      restored = [await restoreSnapshot({ paths, ...member, name: this.args.name, force: this.flags.force })]
    }
    if (!this.jsonEnabled()) {
      for (const result of restored) {
        const how =
          result.fromSpare === undefined
            ? `stopped for ${result.downtimeMs} ms`
            : `databases swapped in ${result.downtimeMs} ms${result.fromSpare ? ', from the ready copy' : ''}`
        this.log(
          `${colors.green('✔')} restored ${result.service} from snapshot ${colors.bold(result.snapshot)} (${formatBytes(result.size)}, verified; ${how})`,
        )
      }
    }
    return { restored }
  }
}
