import { Args } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { formatRef, parseCommittedRef, removeBox, type BoxSummary } from '../../boxes/store/index.js'

export default class BoxRemove extends BaseCommand<typeof BoxRemove> {
  static override summary = 'Remove a committed box from the machine-wide box store.'
  static override examples = [
    '<%= config.bin %> box remove shop-db:2024-05',
    '<%= config.bin %> box remove shop-db --json',
  ]
  static override args = {
    box: Args.string({ description: 'NAME[:TAG] of the box', required: true }),
  }

  async run(): Promise<{ removed: BoxSummary }> {
    const ref = parseCommittedRef(this.args.box)
    const removed = await removeBox(ref)
    if (!this.jsonEnabled()) this.log(`${colors.green('✔')} removed box ${colors.bold(formatRef(ref))}`)
    return { removed }
  }
}
