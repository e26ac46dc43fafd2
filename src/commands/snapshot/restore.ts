import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags, restoreAndReport } from '../../cli/index.js'
import type { RestoreResult } from '../../snapshots/index.js'

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
    return restoreAndReport(
      this.loadSpec(),
      { all: this.flags.all, service: this.args.service, name: this.args.name, force: this.flags.force },
      this.output(),
    )
  }
}
