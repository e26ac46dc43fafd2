import { Args } from '@oclif/core'
import { BaseCommand, colors } from '../../cli/index.js'
import { removeImage } from '../../images/index.js'

export default class ImageRemove extends BaseCommand<typeof ImageRemove> {
  static override summary = 'Remove an image name from the image store (its files go with devenv image prune).'
  static override aliases = ['image:remove']
  static override examples = [
    '<%= config.bin %> image rm 127.0.0.1:5000/tools/busybox:1.36',
    '<%= config.bin %> image rm redis:7 --json',
  ]
  static override args = {
    image: Args.string({ description: 'NAME[:TAG|@DIGEST]', required: true }),
  }

  async run(): Promise<{ removed: string; digest: string }> {
    const result = await removeImage(this.args.image)
    if (!this.jsonEnabled())
      this.log(`${colors.green('✔')} removed ${colors.bold(result.removed)}; devenv image prune frees its files`)
    return result
  }
}
