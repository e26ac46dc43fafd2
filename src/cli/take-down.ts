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
  const stopped = runtimeFor(spec).down(spec)
  // The hosts block is cleared while the services stop (the CLI only waits meanwhile), not after them.
  // Imported only when used: `down --no-hosts` (scripts, benches) does not load the hosts module.
  const hostsCleared = options.keepHosts
    ? undefined
    : import('../hosts/index.js').then(({ clearHosts }) =>
        clearHosts(spec, { sudo: !options.noSudo, note: (line) => out.note(line) }),
      )
  const [{ wasRunning }, hosts] = await Promise.all([stopped, hostsCleared])
  forgetRuntimeChoice(spec.root)
  if (hosts && !hosts.applied && hosts.command) out.warning(hosts.message)
  if (!out.json)
    out.log(
      `${colors.green('✔')} ${spec.name} ${wasRunning ? 'is down' : 'was not running'} (data kept; \`devenv destroy\` deletes it)`,
    )
  return { project: spec.name, stopped: true, wasRunning }
}
