import { Args, Flags } from '@oclif/core'
import { BaseCommand, colors } from '../../cli/index.js'
import { importImage, type ImportResult } from '../../images/index.js'

export default class ImageImport extends BaseCommand<typeof ImageImport> {
  static override summary =
    'Add the images of an OCI image layout archive (devenv image export, skopeo oci-archive:) to the image store.'
  static override description =
    'Only the layout’s own files are accepted, and every blob is stored only once its bytes match its sha256. Layers are checked and unpacked as a pull does.'
  static override examples = [
    '<%= config.bin %> image import busybox.tar',
    '<%= config.bin %> image import app.tar --name team/app:dev --json',
  ]
  static override args = {
    file: Args.string({ description: 'the archive', required: true }),
  }
  static override flags = {
    name: Flags.string({
      description: 'the name to store it under (default: the name in the archive)',
      helpValue: 'NAME:TAG',
    }),
  }

  async run(): Promise<ImportResult> {
    const result = await importImage(this.args.file, this.flags.name)
    if (!this.jsonEnabled())
      for (const image of result.images)
        this.log(`${colors.green('✔')} imported ${colors.bold(image)} (sha256 verified)`)
    return result
  }
}
