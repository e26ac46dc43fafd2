import { Args, Flags } from '@oclif/core'
import { execFileSync } from 'node:child_process'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { capabilitiesOf } from '../boxes/index.js'
import { commandContext } from '../cli/index.js'
import { runAttached, runtimeFor } from '../engine/index.js'
import { checkNames } from '../spec/index.js'

export default class Shell extends BaseCommand<typeof Shell> {
  static override summary =
    "Open an interactive shell in a service's environment (the box's own client where it has one: psql for postgres)."
  static override aliases = ['ssh']
  static override examples = [
    '<%= config.bin %> shell www1',
    '<%= config.bin %> ssh psql',
    '<%= config.bin %> shell psql --db skel',
  ]
  static override enableJsonFlag = false
  static override args = { service: Args.string({ description: 'the service', required: true }) }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'postgres: the database to connect to (default: the first declared)' }),
  }

  async run(): Promise<void> {
    const spec = this.loadSpec()
    checkNames(spec, [this.args.service])
    const handle = runtimeFor(spec).service(spec, this.args.service)
    const context = await commandContext(spec, this.args.service, this.flags.db)
    const own = capabilitiesOf(spec.services[this.args.service]!.kind).shell
    if (own) {
      const box = own(spec, this.args.service, await handle.endpoint(), {
        ...(this.flags.db ? { database: this.flags.db } : {}),
      })
      if (!hasCommand(box.command)) {
        this.log(box.whenMissing)
        return
      }
      // The box's client connects by its URL: it runs here, whichever runtime (or container) the service is in.
      const { enter: _inside, ...here } = context
      process.exitCode = await runAttached(box.command, box.args, here)
      return
    }
    // An image has its own shell, not the host's $SHELL.
    const fromHost = process.env.SHELL && hasCommand(process.env.SHELL) ? process.env.SHELL : '/bin/sh'
    const shell = spec.services[this.args.service]!.image ? '/bin/sh' : fromHost
    this.note(`devenv: a shell in ${this.args.service}'s environment (HOST=${context.env.HOST}); exit to leave`)
    process.exitCode = await runAttached(shell, [], context)
  }
}

function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v "${command.replace(/"/g, '')}"`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
