import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { dump, resolveDatabase } from '../../boxes/postgres/index.js'
import { usage } from '../../errors.js'
import { serviceEndpoint } from '../../engine/index.js'

export default class DbDump extends BaseCommand<typeof DbDump> {
  static override summary = "Export a database with pg_dump: plain SQL, gzipped SQL, or pg_dump's custom format."
  static override description =
    "The format follows the output name: .sql.gz is gzipped SQL, .dump is the custom format (for pg_restore and `devenv db import`), anything else plain SQL. Without -o, plain SQL goes to stdout. Needs pg_dump of the server's major version or newer."
  static override examples = [
    '<%= config.bin %> db dump psql -o skel.sql',
    '<%= config.bin %> db dump psql --db skel -o skel.sql.gz',
    '<%= config.bin %> db dump psql -o skel.dump --json',
    '<%= config.bin %> db dump psql > skel.sql',
  ]
  static override args = { service: Args.string({ description: 'postgres service (default: the only one)' }) }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'database (default: the first the service declares)', helpValue: 'NAME' }),
    output: Flags.string({
      char: 'o',
      description: 'file to write (written aside, then renamed into place)',
      helpValue: 'FILE',
    }),
  }

  async run() {
    if (this.jsonEnabled() && !this.flags.output) throw usage('--json needs -o FILE: stdout carries the JSON report')
    const spec = this.loadSpec()
    const ref = resolveDatabase(spec, this.args.service, this.flags.db)
    const result = await dump(spec, ref, await serviceEndpoint(spec, ref.service.name), this.flags.output)
    if (result.file)
      this.note(
        `${colors.green('✔')} ${ref.service.name}/${result.database} dumped to ${result.file} (${result.format}, ${result.bytes} bytes)`,
      )
    return { service: ref.service.name, ...result }
  }
}
