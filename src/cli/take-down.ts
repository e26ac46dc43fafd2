import { runtimeFor } from '../engine/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { forgetRuntimeChoice } from '../state/index.js'
import type { CommandOutput } from './command-output.js'
import { colors } from './output.js'

export interface DownOptions {
  /** --no-hosts: leave the hosts file alone. */
  keepHosts: boolean
  /** --no-sudo: print the command instead of asking for sudo. */
  noSudo: boolean
}

export interface DownReport {
  project: string
  stopped: true
  wasRunning: boolean
}

/** `devenv down`: every service and the supervisor stopped, the project's hosts block cleared. */
export async function takeDown(spec: EnvSpec, options: DownOptions, out: CommandOutput): Promise<DownReport> {
  const { wasRunning } = await runtimeFor(spec).down(spec)
  forgetRuntimeChoice(spec.root)
  if (!options.keepHosts) {
    // Imported only when used: `down --no-hosts` (scripts, benches) does not load the hosts module.
    const { clearHosts } = await import('../hosts/index.js')
    const hosts = await clearHosts(spec, { sudo: !options.noSudo, note: (line) => out.note(line) })
    if (!hosts.applied && hosts.command) out.warning(hosts.message)
  }
  if (!out.json)
    out.log(
      `${colors.green('✔')} ${spec.name} ${wasRunning ? 'is down' : 'was not running'} (data kept; \`devenv destroy\` deletes it)`,
    )
  return { project: spec.name, stopped: true, wasRunning }
}
