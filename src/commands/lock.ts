import path from 'node:path'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { lockIntegrity, type LockResult } from '../integrity/index.js'

export default class Lock extends BaseCommand<typeof Lock> {
  static override summary = 'Record the sha256 of the files to verify in devenv.lock.'
  static override description =
    'Hashes every file matched by `integrity:` (per service and project-wide) and writes devenv.lock beside the envfile: sorted, one line per file, to commit and review. `devenv up` refuses to start while a file differs from it.'
  static override examples = [
    '<%= config.bin %> lock',
    '<%= config.bin %> lock --json',
    '<%= config.bin %> lock -f ci/devenv.yaml',
  ]
  static override flags = { ...projectFlags }

  async run(): Promise<LockResult> {
    const spec = this.loadSpec()
    const result = lockIntegrity(spec)
    for (const pattern of result.unmatched) this.warning(`integrity pattern "${pattern}" matches no file`)
    if (!this.jsonEnabled()) {
      this.log(
        `${colors.green('✔')} ${path.relative(process.cwd(), result.lockfile) || result.lockfile}: ${result.files.length} file(s) locked`,
      )
    }
    return result
  }
}
