import { BaseCommand, colors } from '../../cli/index.js'
import { pruneImages, type PruneResult } from '../../images/index.js'
import { formatBytes } from '../../snapshots/index.js'

export default class ImagePrune extends BaseCommand<typeof ImagePrune> {
  static override summary = 'Free the blobs, unpacked files and partial downloads no image name needs.'
  static override examples = ['<%= config.bin %> image prune', '<%= config.bin %> image prune --json']

  async run(): Promise<PruneResult> {
    const result = await pruneImages()
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} removed ${result.blobs} blobs, ${result.rootfs} unpacked images, ${result.partial} partial downloads (${formatBytes(result.bytes)})`,
      )
    return result
  }
}
