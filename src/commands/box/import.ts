import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { importBox, type ImportResult } from '../../boxes/store/index.js'
import { formatBytes } from '../../snapshots/index.js'

export default class BoxImport extends BaseCommand<typeof BoxImport> {
  static override summary = 'Add a box exported by devenv box export to the machine-wide box store.'
  static override description =
    'The whole archive is checked before anything is written: paths, entry types, links, sizes and every sha256. A refused archive leaves nothing behind.'
  static override examples = [
    '<%= config.bin %> box import shop-db.box.tgz',
    '<%= config.bin %> box import shop-db.box.tgz --force --json',
  ]
  static override args = {
    file: Args.string({ description: 'the archive', required: true }),
  }
  static override flags = {
    force: Flags.boolean({ description: 'replace a box of the same name and tag' }),
  }

  async run(): Promise<ImportResult> {
    const result = await importBox(this.args.file, { replace: this.flags.force })
    const box = result.box
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} imported box ${colors.bold(`${box.name}:${box.tag}`)} (${box.kind}, ${formatBytes(box.size)}, ${box.files} files, checksums verified)`,
      )
    return result
  }
}
