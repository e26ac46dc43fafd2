import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { ProjectPaths } from '../../state/index.js'
import { deleteSnapshot, formatBytes, serviceCopiesOf, type SnapshotInfo } from '../../snapshots/index.js'
import { runtimeFor } from '../../engine/index.js'

export default class SnapshotDelete extends BaseCommand<typeof SnapshotDelete> {
  static override summary = 'Delete a snapshot.'
  static override examples = [
    '<%= config.bin %> snapshot delete db before-migration',
    '<%= config.bin %> snapshot delete db before-migration --json',
  ]
  static override args = {
    service: Args.string({ description: 'service the snapshot belongs to', required: true }),
    name: Args.string({ description: 'snapshot to delete', required: true }),
  }
  static override flags = { ...projectFlags }

  async run(): Promise<{ deleted: SnapshotInfo }> {
    const spec = this.loadSpec()
    const deleted = await deleteSnapshot(
      new ProjectPaths(spec.root),
      this.args.service,
      this.args.name,
      serviceCopiesOf(runtimeFor(spec), spec, this.args.service),
    )
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} deleted snapshot ${colors.bold(deleted.name)} of ${deleted.service} (${formatBytes(deleted.size)})`,
      )
    return { deleted }
  }
}
