import { Args, Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { exportBox, formatRef, parseCommittedRef, type ExportResult } from '../../boxes/store/index.js'
import { formatBytes } from '../../snapshots/index.js'

export default class BoxExport extends BaseCommand<typeof BoxExport> {
  static override summary = 'Write a committed box to one file (a tar with a manifest of sha256 checksums).'
  static override description =
    'The file is gzip-compressed when its name ends in .gz or .tgz, or with --gzip. Import it on another machine with devenv box import FILE.'
  static override examples = [
    '<%= config.bin %> box export shop-db:2024-05 -o shop-db.box.tgz',
    '<%= config.bin %> box export shop-db -o shop-db.box.tar',
  ]
  static override args = {
    box: Args.string({ description: 'NAME[:TAG] of the box', required: true }),
  }
  static override flags = {
    output: Flags.string({ char: 'o', description: 'file to write', required: true, helpValue: 'FILE' }),
    gzip: Flags.boolean({ description: 'compress with gzip (default: when FILE ends in .gz or .tgz)', allowNo: true }),
  }

  async run(): Promise<ExportResult> {
    const ref = parseCommittedRef(this.args.box)
    const result = await exportBox(
      ref,
      this.flags.output,
      this.flags.gzip === undefined ? {} : { gzip: this.flags.gzip },
    )
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} exported ${colors.bold(formatRef(ref))} to ${result.file} (${formatBytes(result.bytes)}${result.gzip ? ', gzip' : ''})`,
      )
    return result
  }
}
