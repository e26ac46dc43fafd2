import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { resolveDatabase, seed } from '../../boxes/postgres/index.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class DbSeed extends BaseCommand<typeof DbSeed> {
  static override summary = 'Run the seeds again into a fresh database.'
  static override description =
    'The seeds run into a new template first; only when every file succeeded is the database replaced by a copy of it, so a failing seed leaves the database as it was.'
  static override examples = ['<%= config.bin %> db seed psql', '<%= config.bin %> db seed psql --db skel --json']
  static override args = { service: Args.string({ description: 'postgres service (default: the only one)' }) }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'database (default: the first the service declares)', helpValue: 'NAME' }),
  }

  async run() {
    const spec = this.loadSpec()
    const ref = resolveDatabase(spec, this.args.service, this.flags.db)
    const outcome = await seed(spec, ref, await serviceEndpoint(spec, ref.service.name), (line) =>
      this.note(colors.dim(line)),
    )
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} ${ref.service.name}/${outcome.database} seeded from ${outcome.seedFiles} file(s) in ${outcome.durationMs} ms`,
      )
    return { service: ref.service.name, ...outcome }
  }
}
