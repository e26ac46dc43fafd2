import { Args } from '@oclif/core'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { commandContext } from '../cli/index.js'
import { runAttached } from '../engine/index.js'
import { usage } from '../errors.js'

export default class Exec extends BaseCommand<typeof Exec> {
  static override summary =
    "Run a command in a service's environment and working folder; its exit code is passed through."
  static override examples = [
    '<%= config.bin %> exec www1 -- node -v',
    "<%= config.bin %> exec www1 -- sh -c 'echo $HOST:$PORT'",
    "<%= config.bin %> exec psql -- psql -c 'select 1'",
    '<%= config.bin %> exec psql -- env',
  ]
  static override strict = false
  static override enableJsonFlag = false
  static override args = {
    service: Args.string({ description: 'the service', required: true }),
  }
  static override flags = { ...projectFlags }

  async run(): Promise<void> {
    const spec = this.loadSpec()
    const { argv } = await this.parse(Exec)
    const [, ...command] = argv as string[]
    if (command.length === 0)
      throw usage('no command given', 'Put the command after --, e.g. devenv exec www1 -- node -v')
    const code = await runAttached(command[0]!, command.slice(1), await commandContext(spec, this.args.service))
    process.exitCode = code
  }
}
