import { Args } from '@oclif/core'
import type { ListrTask } from 'listr2'
import { BaseCommand, colors } from '../../cli/index.js'
import { pullImage, type PullEvent, type PullResult } from '../../images/index.js'
import { formatBytes } from '../../snapshots/index.js'

function describe(event: PullEvent): string {
  if (event.step === 'blob') {
    const percent = event.total ? Math.floor((event.received / event.total) * 100) : 100
    return `blob ${event.index + 1}/${event.count} ${event.digest.slice(7, 19)} ${formatBytes(event.received)}/${formatBytes(event.total)} (${percent}%)`
  }
  return event.message
}

export default class ImagePull extends BaseCommand<typeof ImagePull> {
  static override summary = 'Pull an OCI image into the machine-wide image store, without a container engine.'
  static override description =
    'Speaks the OCI distribution API itself: bearer tokens as the registry asks, an image index resolved to this platform, every blob checked against its sha256, an interrupted pull resumed. A registry on a loopback address is spoken to over plain HTTP. Credentials, when a registry needs them: DEVENV_REGISTRY_AUTH=user:password.'
  static override examples = [
    '<%= config.bin %> image pull 127.0.0.1:5000/tools/busybox:1.36',
    '<%= config.bin %> image pull redis:7 --json',
    '<%= config.bin %> image pull 127.0.0.1:5000/app@sha256:0123…',
  ]
  static override args = {
    image: Args.string({ description: 'NAME[:TAG|@DIGEST]', required: true }),
  }

  async run(): Promise<PullResult> {
    const image = this.args.image
    if (this.jsonEnabled() || !process.stderr.isTTY) {
      let last = ''
      const result = await pullImage(image, (event) => {
        // Without a terminal, one line per step (not one per chunk of bytes).
        const line = event.step === 'blob' ? `blob ${event.index + 1}/${event.count}` : event.message
        if (line !== last && event.step !== 'blob') this.note(colors.dim(line))
        last = line
      })
      this.report(result)
      return result
    }
    const { Listr, ListrLogger, ProcessOutput } = await import('listr2')
    let result: PullResult | undefined
    const tasks: ListrTask[] = [
      {
        title: `pull ${image}`,
        task: async (_context, task) => {
          result = await pullImage(image, (event) => {
            task.output = describe(event)
          })
          task.title = `pulled ${result.image.name}`
        },
      },
    ]
    const list = new Listr(tasks, {
      rendererOptions: {
        processOutput: new ProcessOutput(process.stderr, process.stderr),
        collapseErrors: false,
        showErrorMessage: false,
      },
      fallbackRendererOptions: {
        logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }),
      },
    })
    await list.run()
    this.report(result!)
    return result!
  }

  private report(result: PullResult): void {
    if (this.jsonEnabled()) return
    const fetched = result.fetched
      ? `${result.fetched} blobs, ${formatBytes(result.bytesFetched)} fetched`
      : 'already in the store'
    this.log(
      `${colors.green('✔')} ${colors.bold(result.image.name)} ${result.image.manifestDigest.slice(0, 19)} (${fetched}, sha256 verified)`,
    )
  }
}
