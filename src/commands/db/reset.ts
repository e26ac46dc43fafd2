import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { reset, resolveDatabase } from '../../boxes/postgres/index.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class DbReset extends BaseCommand<typeof DbReset> {
  static override summary = 'Bring a database back to its freshly seeded state, fast.'
  static override description =
    'Swaps in a ready copy of the seeded template kept since the last seeding (a rename: fast whatever the size), so the seeds do not run again; the old copy is dropped and the next spare copy made in the background. When the seed files changed since then, they run again and the template is rebuilt. Connections to the database are closed.'
  static override examples = [
    '<%= config.bin %> db reset psql',
    '<%= config.bin %> db reset psql --db skel',
    '<%= config.bin %> db reset psql --json',
  ]
  static override args = { service: Args.string({ description: 'postgres service (default: the only one)' }) }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'database (default: the first the service declares)', helpValue: 'NAME' }),
  }

  async run() {
    const spec = this.loadSpec()
    const ref = resolveDatabase(spec, this.args.service, this.flags.db)
    const outcome = await reset(spec, ref, await serviceEndpoint(spec, ref.service.name), (line) =>
      this.note(colors.dim(line)),
    )
    if (!this.jsonEnabled()) {
      const how =
        outcome.action === 'seeded'
          ? `seeds ran again (${outcome.seedFiles} file(s) changed since the last seeding)`
          : 'from the seeded template'
      this.log(`${colors.green('✔')} ${ref.service.name}/${outcome.database} reset ${how} in ${outcome.durationMs} ms`)
    }
    return { service: ref.service.name, ...outcome }
  }
}
