import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors, table } from '../../cli/index.js'
import { ProjectPaths } from '../../state/index.js'
import { formatBytes, formatTime, listSnapshots, statefulService, type SnapshotInfo } from '../../snapshots/index.js'

export default class SnapshotList extends BaseCommand<typeof SnapshotList> {
  static override summary = 'List snapshots: name, service, box, size, created, checksum.'
  static override examples = [
    '<%= config.bin %> snapshot list',
    '<%= config.bin %> snapshot list db',
    '<%= config.bin %> snapshot list --json',
  ]
  static override args = {
    service: Args.string({ description: 'only the snapshots of this service' }),
  }
  static override flags = { ...projectFlags }

  async run(): Promise<{ snapshots: SnapshotInfo[] }> {
    const spec = this.loadSpec()
    if (this.args.service) statefulService(spec, this.args.service)
    const snapshots = listSnapshots(new ProjectPaths(spec.root), this.args.service)
    if (!this.jsonEnabled()) {
      if (!snapshots.length)
        this.log(
          colors.dim(
            `no snapshots${this.args.service ? ` of ${this.args.service}` : ''}; take one with devenv snapshot SERVICE`,
          ),
        )
      else {
        const rows = snapshots.map((info) => [
          info.name,
          info.service,
          `${info.box} ${info.boxVersion}`,
          formatBytes(info.size),
          formatTime(info.created),
          info.checksum.replace(/^sha256:/, '').slice(0, 12),
        ])
        this.log(table(['NAME', 'SERVICE', 'BOX', 'SIZE', 'CREATED', 'CHECKSUM'], rows))
      }
    }
    return { snapshots }
  }
}
