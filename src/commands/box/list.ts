import { BaseCommand } from '../../cli/index.js'
import { colors, table } from '../../cli/index.js'
import { listBoxes, storeRoot, type BoxSummary } from '../../boxes/store/index.js'
import { formatBytes, formatTime } from '../../snapshots/index.js'

export default class BoxList extends BaseCommand<typeof BoxList> {
  static override summary = 'List the boxes in the machine-wide box store (made by devenv commit or box import).'
  static override examples = ['<%= config.bin %> box list', '<%= config.bin %> box list --json']

  async run(): Promise<{ store: string; boxes: BoxSummary[] }> {
    const boxes = listBoxes()
    if (!this.jsonEnabled()) {
      if (!boxes.length)
        this.log(colors.dim(`no committed boxes in ${storeRoot()}; make one with devenv commit SERVICE NAME[:TAG]`))
      else {
        const rows = boxes.map((box) => [
          `${box.name}:${box.tag}`,
          box.kind,
          `${box.baseBox} ${box.baseVersion}`,
          formatBytes(box.size),
          formatTime(box.created),
        ])
        this.log(table(['BOX', 'KIND', 'FROM', 'SIZE', 'CREATED'], rows))
      }
    }
    return { store: storeRoot(), boxes }
  }
}
