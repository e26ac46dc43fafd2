import { BaseCommand } from '../../cli/index.js'
import { colors, table } from '../../cli/index.js'
import { ensureCa } from '../../tls/index.js'
import { trustAdvice, type TrustAdvice } from '../../tls/index.js'

export interface CaReport {
  certificate: string
  privateKey: string
  subject: string
  fingerprint: string
  notAfter: string
  created: boolean
  trust: TrustAdvice
}

export default class TlsCa extends BaseCommand<typeof TlsCa> {
  static override summary = "Print the local certificate authority's certificate path and how to trust it."
  static override description =
    'devenv signs the HTTPS certificates of every project with one certificate authority per machine, made on first use ' +
    "in the machine folder (DEVENV_HOME). Its private key is readable by you only. Trust it once and every project's " +
    'https://*.test page opens without warnings.'
  static override examples = [
    '<%= config.bin %> tls ca',
    '<%= config.bin %> tls ca --json',
    'curl --cacert "$(<%= config.bin %> tls ca --json | jq -r .certificate)" https://www.example.test/',
  ]

  async run(): Promise<CaReport> {
    const ca = await ensureCa()
    const advice = trustAdvice(ca)
    const report: CaReport = {
      certificate: ca.paths.certificate,
      privateKey: ca.paths.privateKey,
      subject: ca.subject,
      fingerprint: ca.fingerprint,
      notAfter: ca.notAfter.toISOString(),
      created: ca.created,
      trust: advice,
    }
    if (!this.jsonEnabled()) {
      if (ca.created) this.note(`${colors.green('✔')} made a new certificate authority: ${ca.subject}`)
      this.log(ca.paths.certificate)
      this.log('')
      this.log(
        table(
          ['', ''],
          [
            ['subject', ca.subject],
            ['sha-256', ca.fingerprint],
            ['expires', ca.notAfter.toISOString().slice(0, 10)],
          ],
        ).replace(/^.*\n/, ''),
      )
      this.log('')
      this.log(colors.bold('To trust it:'))
      this.log(
        table(
          ['', ''],
          [
            ['system', advice.system],
            ['curl', advice.curl],
            ['node', advice.node],
            ['python', advice.python],
            ['firefox', advice.firefox],
            ['chrome', advice.chromeLinux],
          ],
        ).replace(/^.*\n/, ''),
      )
    }
    return report
  }
}
