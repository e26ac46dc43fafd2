import { Args, Flags } from '@oclif/core'
import { execFileSync } from 'node:child_process'
import { BaseCommand, projectFlags } from '../cli/base-command.js'
import { connectionUrl } from '../boxes/postgres/references.js'
import { commandContext } from '../cli/service-context.js'
import { runAttached } from '../engine/exec.js'
import { checkNames } from '../engine/graph.js'

export default class Shell extends BaseCommand<typeof Shell> {
  static override summary = 'Open an interactive shell in a service\'s environment (psql for a postgres service).'
  static override aliases = ['ssh']
  static override examples = ['<%= config.bin %> shell www1', '<%= config.bin %> ssh psql', '<%= config.bin %> shell psql --db skel']
  static override enableJsonFlag = false
  static override args = { service: Args.string({ description: 'the service', required: true }) }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'postgres: the database to connect to (default: the first declared)' }),
  }

  async run(): Promise<void> {
    const spec = this.loadSpec()
    checkNames(spec, [this.args.service])
    const context = commandContext(spec, this.args.service, this.flags.db)
    if (spec.services[this.args.service]!.kind === 'postgres') {
      const url = connectionUrl(spec, this.args.service, this.flags.db, { showSecrets: true })
      if (!hasCommand('psql')) {
        this.log(`psql is not installed. Connect with any PostgreSQL client to:\n  ${connectionUrl(spec, this.args.service, this.flags.db)}\n(the password is in devenv.yaml; \`devenv config --show-secrets\` prints it)`)
        return
      }
      process.exitCode = await runAttached('psql', [url], context)
      return
    }
    const shell = process.env.SHELL && hasCommand(process.env.SHELL) ? process.env.SHELL : '/bin/sh'
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
