import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { browserOpener, openInBrowser } from '../cli/index.js'
import { defaultWebService, serviceUrl } from '../cli/index.js'
import { checkNames } from '../spec/index.js'
import { runtimeFor } from '../engine/index.js'

export default class Open extends BaseCommand<typeof Open> {
  static override summary = 'Open the site (the balancer, or the named service) in the browser, as `ddev launch`.'
  static override description =
    'Prints the URL as well; where there is no browser to open (no desktop session, no xdg-open or open), or with --print, only prints it.'
  static override aliases = ['launch']
  static override examples = [
    '<%= config.bin %> open',
    '<%= config.bin %> open mail',
    '<%= config.bin %> open www1 --print',
    '<%= config.bin %> open --json',
  ]
  static override args = {
    service: Args.string({ description: 'service to open (default: the balancer, or the only web service)' }),
  }
  static override flags = {
    ...projectFlags,
    print: Flags.boolean({ description: 'print the URL only; open no browser' }),
  }

  async run(): Promise<{ service: string; url: string; opened: boolean }> {
    const spec = this.loadSpec()
    const name = this.args.service ?? defaultWebService(spec)
    checkNames(spec, [name])
    const state = await runtimeFor(spec).inspect(spec)
    const url = serviceUrl(spec.services[name]!, state.services[name])
    const opener = this.flags.print ? undefined : browserOpener()
    if (opener) openInBrowser(opener, url)
    else if (!this.flags.print)
      this.note(
        `no browser to open here (no desktop session, or no ${process.platform === 'darwin' ? 'open' : 'xdg-open'}): open ${url} yourself`,
      )
    if (!this.jsonEnabled()) this.log(url)
    return { service: name, url, opened: Boolean(opener) }
  }
}
