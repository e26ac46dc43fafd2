import type { BoxDriver, Launch, ServiceContext } from '../driver.js'
import { fillRuntimeVariables } from '../../spec/index.js'
import { isSimpleCommand } from './simple-command.js'

/** Any command, run by the shell in the service's working folder and environment. */
export function processLaunch(context: ServiceContext): Launch {
  const command = fillRuntimeVariables(context.service.command ?? 'true', context.env)
  return {
    command: '/bin/sh',
    // exec for one program: it replaces the shell, so signals reach it directly. A compound
    // command (a && b, a | b, a; b) runs as written; stop signals the whole process group.
    args: ['-c', isSimpleCommand(command) ? `exec ${command}` : command],
    env: context.env,
    cwd: context.service.workdir,
  }
}

export const processDriver: BoxDriver = {
  kind: 'process',
  launch: processLaunch,
}
