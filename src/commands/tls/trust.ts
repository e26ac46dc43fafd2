import { Flags } from '@oclif/core'
import { BaseCommand } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import { ensureCa } from '../../tls/index.js'
import { installTrust, manualSteps, trustPlan, type TrustResult } from '../../tls/index.js'

export default class TlsTrust extends BaseCommand<typeof TlsTrust> {
  static override summary = "Install the local certificate authority in the system's trust store."
  static override description =
    'Debian and Ubuntu: copies the CA to /usr/local/share/ca-certificates and runs update-ca-certificates. Fedora: ' +
    '/etc/pki/ca-trust/source/anchors and update-ca-trust. macOS: security add-trusted-cert into the System keychain. ' +
    'Needs root: runs through sudo when you are not root; without sudo it prints the commands to run as root. ' +
    'Firefox keeps its own store: see `devenv tls ca`.'
  static override examples = [
    '<%= config.bin %> tls trust',
    '<%= config.bin %> tls trust --dry-run',
    '<%= config.bin %> tls trust --json',
  ]
  static override flags = {
    'dry-run': Flags.boolean({ description: 'print the commands instead of running them' }),
  }

  async run(): Promise<TrustResult & { dryRun: boolean; certificate: string }> {
    const ca = await ensureCa()
    const plan = trustPlan(ca.paths)
    if (this.flags['dry-run']) {
      const commands = manualSteps(plan, ca.paths, plan.needsRoot && process.getuid?.() !== 0)
      if (!this.jsonEnabled()) this.log(commands.join('\n'))
      return {
        system: plan.system,
        ...(plan.destination ? { destination: plan.destination } : {}),
        via: 'user',
        commands,
        dryRun: true,
        certificate: ca.paths.certificate,
      }
    }
    this.note(`Adding ${ca.subject} to the ${plan.system} trust store…`)
    const result = await installTrust(plan, ca.paths)
    if (!this.jsonEnabled()) {
      this.log(
        `${colors.green('✔')} ${ca.subject} is trusted by the system store${result.destination ? ` (${result.destination})` : ''}`,
      )
      this.log(colors.dim('Firefox keeps its own store, and running browsers may need a restart: see `devenv tls ca`.'))
    }
    return { ...result, dryRun: false, certificate: ca.paths.certificate }
  }
}
