import { projectActivity, runningElsewhere, runtimeFor } from '../engine/index.js'
import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { assertIntegrity } from '../integrity/index.js'
import type { UpResult } from '../runtime/index.js'
import { withDependencies } from '../spec/index.js'
import { rememberProject, writeRuntimeChoice } from '../state/index.js'
import type { CommandOutput } from './command-output.js'
import { failureHeadline } from './failure.js'
import { followUntilInterrupted, logPrinter } from './log-printer.js'
import { colors } from './output.js'
import { withServiceProgress } from './progress.js'
import { renderServices } from './render-status.js'

export interface UpOptions {
  /** Services to start with what they depend on; every one when empty. */
  names: string[]
  recreate: boolean
  attach: boolean
  /** --no-hosts: leave the hosts file alone. */
  keepHosts: boolean
  noSudo: boolean
  skipVerify: boolean
  /** --runtime: the project runs on it until `devenv down`, whatever its envfile says. */
  runtime?: EnvSpec['runtime']
}

/** `devenv up`: checks, hostnames, then the runtime starts the services while their progress shows. */
export async function bringUp(spec: EnvSpec, options: UpOptions, out: CommandOutput): Promise<UpResult> {
  const targets = withDependencies(spec, options.names)
  if (options.skipVerify) {
    out.warning('--skip-verify: NOT checking files against devenv.lock; services may start with changed configuration')
  } else {
    await assertIntegrity(spec, targets)
  }
  const elsewhere = runningElsewhere(spec)
  if (elsewhere) {
    throw new DevenvError(
      'USAGE',
      `${spec.name} runs on the ${elsewhere.provider} runtime now (${elsewhere.detail ?? 'running'}), not on ${spec.runtime}`,
      {
        hint: `Stop it there first: \`devenv down\`${elsewhere.provider === 'bundled' ? '' : ' (it remembers the runtime)'}, then \`devenv up${spec.runtime === 'docker' ? ' --runtime docker' : ''}\`.`,
      },
    )
  }
  const runtime = runtimeFor(spec)
  if (!options.keepHosts) {
    const { syncHosts } = await import('../hosts/index.js')
    const addresses = await runtime.addresses(spec, Object.keys(spec.services))
    const hosts = await syncHosts(spec, addresses, {
      sudo: !options.noSudo,
      note: (line) => out.note(line),
      isRunning: (root) => projectActivity(root).active,
    })
    if (!hosts.applied && hosts.command) out.warning(hosts.message)
  }
  await rememberProject({ name: spec.name, root: spec.root, envfile: spec.file })
  if (options.runtime) writeRuntimeChoice(spec.root, options.runtime)
  const result = await withServiceProgress(targets, out.json, (onEvent) =>
    runtime.up(spec, { services: options.names, ...(options.recreate ? { recreate: true } : {}) }, onEvent),
  )
  if (!out.json) {
    out.log(renderServices(result.services))
    for (const service of result.services)
      for (const note of service.notes ?? []) out.warning(`${service.name}: ${note}`)
  }
  if (!result.ok && result.failed) {
    if (out.json) {
      process.exitCode = 1
      return result
    }
    throw new DevenvError('SERVICE_FAILED', failureHeadline(result), {
      details: result.failed.lastLines.map((line) => colors.dim(line)),
      hint: `See \`devenv logs ${result.failed.service}\` for the whole log.`,
    })
  }
  if (options.attach) {
    out.note(colors.dim('attached: Ctrl-C stops the services (`devenv up` without --attach leaves them running)'))
    await followUntilInterrupted(runtime, spec, targets, logPrinter(targets))
    out.note('stopping…')
    await runtime.stop(spec, targets)
  }
  return result
}
