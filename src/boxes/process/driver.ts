import type { BoxDriver, Launch, ServiceContext } from '../driver.js'
import { fillRuntimeVariables } from '../../spec/index.js'

/** Any command, run by the shell in the service's working folder and environment. */
export function processLaunch(context: ServiceContext): Launch {
  const command = fillRuntimeVariables(context.service.command ?? 'true', context.env)
  return {
    command: '/bin/sh',
    // exec: the service's own process replaces the shell, so signals reach it directly.
    args: ['-c', `exec ${command}`],
    env: context.env,
    cwd: context.service.workdir,
  }
}

export const processDriver: BoxDriver = {
  kind: 'process',
  launch: processLaunch,
}
