import { BaseCommand, colors, table } from '../../cli/index.js'
import { imagesRoot, listImages, type ImageSummary } from '../../images/index.js'
import { formatBytes, formatTime } from '../../snapshots/index.js'

export default class ImageList extends BaseCommand<typeof ImageList> {
  static override summary = 'List the images in the machine-wide image store.'
  static override aliases = ['image:list']
  static override examples = ['<%= config.bin %> image ls', '<%= config.bin %> image ls --json']

  async run(): Promise<{ store: string; images: ImageSummary[] }> {
    const images = listImages()
    if (!this.jsonEnabled()) {
      if (!images.length)
        this.log(colors.dim(`no images in ${imagesRoot()}; pull one with devenv image pull NAME[:TAG]`))
      else
        this.log(
          table(
            ['IMAGE', 'DIGEST', 'LAYERS', 'SIZE', 'PULLED'],
            images.map((image) => [
              image.name,
              image.digest.slice(7, 19),
              String(image.layers),
              formatBytes(image.size),
              formatTime(image.pulled),
            ]),
          ),
        )
    }
    return { store: imagesRoot(), images }
  }
}
