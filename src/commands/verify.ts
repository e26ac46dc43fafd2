import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors, stateColor, table } from '../cli/index.js'
import { DevenvError } from '../errors.js'
import { describeCheck, verifyIntegrity, type IntegrityReport } from '../integrity/index.js'

export default class Verify extends BaseCommand<typeof Verify> {
  static override summary = 'Check the declared files against devenv.lock without starting anything.'
  static override description =
    'Exits 0 when every file matches, 1 when one is changed, missing or not locked yet, naming each with the expected and found sha256.'
  static override examples = ['<%= config.bin %> verify', '<%= config.bin %> verify --json']
  static override flags = { ...projectFlags }

  async run(): Promise<IntegrityReport> {
    const spec = this.loadSpec()
    const report = await verifyIntegrity(spec)
    if (!this.jsonEnabled()) {
      if (report.files.length === 0) this.log(colors.dim('no files to verify: add `integrity:` globs to devenv.yaml'))
      else {
        const owners = (file: string): string =>
          report.services
            .filter((service) => service.files.some((check) => check.file === file))
            .map((service) => service.service)
            .join(', ') || '(project)'
        this.log(
          table(
            ['FILE', 'STATUS', 'SERVICES'],
            report.files.map((check) => [
              check.file,
              check.status === 'ok' ? stateColor('ok') : colors.red(check.status),
              owners(check.file),
            ]),
          ),
        )
      }
    }
    if (report.ok) {
      if (!this.jsonEnabled() && report.files.length > 0)
        this.log(`${colors.green('✔')} ${report.files.length} file(s) match ${report.source}`)
      return report
    }
    if (this.jsonEnabled()) {
      // The envelope's ok is false (exit 1); its result is the report, naming every file that differs.
      process.exitCode = 1
      return report
    }
    const bad = report.files.filter((check) => check.status !== 'ok')
    throw new DevenvError('INTEGRITY', `${bad.length} file(s) differ from ${report.source}`, {
      details: bad.map(describeCheck),
      hint: 'If the change is intended, run `devenv lock` and commit devenv.lock.',
    })
  }
}
