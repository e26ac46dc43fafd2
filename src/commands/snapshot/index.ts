import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags, saveAndReport } from '../../cli/index.js'
import { usage } from '../../errors.js'
import type { SnapshotInfo } from '../../snapshots/index.js'

export default class Snapshot extends BaseCommand<typeof Snapshot> {
  static override summary =
    "Snapshot a service's state under a generated name (see also: snapshot save, list, restore, delete)."
  static override description =
    'Short for `devenv snapshot save SERVICE`. Snapshots live in .devenv/snapshots/<service>/<name>/ with a manifest of checksums; restores are atomic.'
  static override examples = [
    '<%= config.bin %> snapshot db',
    '<%= config.bin %> snapshot --all',
    '<%= config.bin %> snapshot list',
    '<%= config.bin %> snapshot restore db 2024-05-01T10-30-05-123Z',
  ]
  static override args = {
    service: Args.string({ description: 'service to snapshot' }),
  }
  static override flags = {
    ...projectFlags,
    all: Flags.boolean({ description: 'snapshot every stateful service under one name' }),
  }

  async run(): Promise<{ snapshots: SnapshotInfo[] }> {
    if (!this.args.service && !this.flags.all) {
      throw usage(
        'name the service to snapshot, or use --all',
        'devenv snapshot SERVICE, or see devenv snapshot --help for save, list, restore and delete.',
      )
    }
    return saveAndReport(
      this.loadSpec(),
      { all: this.flags.all, service: this.flags.all ? undefined : this.args.service, name: undefined },
      this.output(),
    )
  }
}
