import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { importFile, resolveDatabase } from '../../boxes/postgres/index.js'
import { serviceEndpoint } from '../../engine/index.js'
import { usage } from '../../errors.js'

export default class DbImport extends BaseCommand<typeof DbImport> {
  static override summary = 'Load a SQL file, a gzipped SQL file or a pg_dump archive into a database.'
  static override description =
    "The format is read from the file itself. SQL runs whole, in one transaction, as the database's owner: an error leaves nothing of the file behind and names its line. A custom-format archive goes through pg_restore. With --replace the database is emptied first."
  static override examples = [
    '<%= config.bin %> db import backup.sql',
    '<%= config.bin %> db import psql backup.sql',
    '<%= config.bin %> db import psql backup.sql.gz --db skel',
    '<%= config.bin %> db import psql skel.dump --replace --json',
  ]
  static override usage = 'db import [SERVICE] FILE [--db NAME] [--replace] [--json]'
  // Both optional to oclif: with one argument it is the FILE, and the service is the only postgres one.
  static override args = {
    service: Args.string({ description: 'postgres service (default: the only one)' }),
    file: Args.string({ description: 'file to import (.sql, .sql.gz, or a pg_dump custom archive)' }),
  }
  static override flags = {
    ...projectFlags,
    db: Flags.string({ description: 'database (default: the first the service declares)', helpValue: 'NAME' }),
    replace: Flags.boolean({ description: 'drop and recreate the database (empty) before importing' }),
  }

  async run() {
    const [service, file] =
      this.args.file === undefined ? [undefined, this.args.service] : [this.args.service, this.args.file]
    if (!file)
      throw usage(
        'missing FILE, the file to import',
        'devenv db import [SERVICE] FILE, e.g. devenv db import backup.sql',
      )
    const spec = this.loadSpec()
    const ref = resolveDatabase(spec, service, this.flags.db)
    const result = await importFile(spec, ref, await serviceEndpoint(spec, ref.service.name), file, {
      replace: this.flags.replace,
      log: (line) => this.note(colors.dim(line)),
    })
    if (!this.jsonEnabled())
      this.log(
        `${colors.green('✔')} imported ${result.file} (${result.format}) into ${ref.service.name}/${result.database}`,
      )
    return { service: ref.service.name, ...result }
  }
}
