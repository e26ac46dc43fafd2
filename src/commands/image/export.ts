import { Args, Flags } from '@oclif/core'
import { BaseCommand, colors } from '../../cli/index.js'
import { exportImage, type ExportResult } from '../../images/index.js'
import { formatBytes } from '../../snapshots/index.js'

export default class ImageExport extends BaseCommand<typeof ImageExport> {
  static override summary =
    'Write an image of the store to an OCI image layout archive (skopeo oci-archive:, docker load).'
  static override examples = [
    '<%= config.bin %> image export 127.0.0.1:5000/tools/busybox:1 -o busybox.tar',
    '<%= config.bin %> image export mine:1 -o mine.tar --json',
  ]
  static override args = {
    image: Args.string({ description: 'NAME[:TAG|@DIGEST] in the image store', required: true }),
  }
  static override flags = {
    output: Flags.string({ char: 'o', description: 'the archive to write', required: true, helpValue: 'FILE' }),
  }

  async run(): Promise<ExportResult> {
    const result = await exportImage(this.args.image, this.flags.output)
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} wrote ${colors.bold(result.image)} to ${result.file} (${result.blobs} blobs, ${formatBytes(result.bytes)})`,
      )
    return result
  }
}
