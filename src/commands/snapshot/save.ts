import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags, saveAndReport } from '../../cli/index.js'
import type { SnapshotInfo } from '../../snapshots/index.js'

export default class SnapshotSave extends BaseCommand<typeof SnapshotSave> {
  static override summary = "Save a service's state as a named snapshot (default name: the date and time)."
  static override description =
    'The service is stopped (or checkpointed) only while its data folder is copied, then started again. With --all, every stateful service is saved under one name, as a set.'
  static override examples = [
    '<%= config.bin %> snapshot save db',
    '<%= config.bin %> snapshot save db before-migration',
    '<%= config.bin %> snapshot save --all before-upgrade',
    '<%= config.bin %> snapshot save db --json',
  ]
  static override args = {
    service: Args.string({ description: 'service to snapshot (with --all: the name of the set)' }),
    name: Args.string({ description: 'snapshot name: letters, digits, "-", "_", "."' }),
  }
  static override flags = {
    ...projectFlags,
    all: Flags.boolean({ description: 'snapshot every stateful service under one name' }),
  }

  async run(): Promise<{ snapshots: SnapshotInfo[] }> {
    return saveAndReport(
      this.loadSpec(),
      { all: this.flags.all, service: this.args.service, name: this.args.name },
      this.output(),
    )
  }
}
