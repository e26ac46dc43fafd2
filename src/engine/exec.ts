import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { EnvSpec } from '../envfile/model.js'
import { DevenvError } from '../errors.js'
import { checkNames } from './graph.js'
import { serviceEnvironment } from './service-env.js'
import { readProjectState } from '../state/project-state.js'
import { ProjectPaths } from '../state/paths.js'

export interface ShellContext {
  env: Record<string, string>
  cwd: string
  /** Enters the service's own mount namespace first (its mounts bound at their targets). */
  enter?: string[]
}

/** The environment and folder a running service has, for `exec` and `shell`. */
export function serviceShellContext(spec: EnvSpec, name: string): ShellContext {
  checkNames(spec, [name])
  const service = spec.services[name]!
  const state = readProjectState(spec.root)?.services[name]
  if (!state || (state.state !== 'running' && state.state !== 'starting')) {
    throw new DevenvError('NOT_FOUND', `service ${name} is not running`, { hint: `Start it with \`devenv up ${name}\`.` })
  }
  const env = serviceEnvironment(service, {
    project: spec.name,
    address: state.address,
    port: (declared) => state.ports.find((port) => port.port === declared)?.bound ?? declared,
    dataDir: new ProjectPaths(spec.root).serviceData(name),
  })
  const inside = state.mounts === 'bind' && state.pid ? serviceProcessInside(state.pid) : undefined
  return { env, cwd: service.workdir, ...(inside ? { enter: ['nsenter', `--target=${inside}`, '--mount', '--root', '--wd', '--'] } : {}) }
}

/** The service's own process: the child that `unshare --fork` made in the new namespace. */
function serviceProcessInside(unsharePid: number): number | undefined {
  try {
    const child = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/)[0]
    return child ? Number(child) : undefined
  } catch {
    return undefined
  }
}

/** Runs a command in a service's environment with the terminal attached; resolves to its exit code. */
export function runAttached(command: string, args: string[], context: ShellContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const [program, ...programArgs] = context.enter ? [...context.enter, command, ...args] : [command, ...args]
    const child = spawn(program!, programArgs, { env: context.env, cwd: context.cwd, stdio: 'inherit' })
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(new DevenvError(error.code === 'ENOENT' ? 'USAGE' : 'RUNTIME', `cannot run ${command}: ${error.code === 'ENOENT' ? 'command not found' : error.message}`))
    })
    // Ctrl-C goes to the child (same terminal); devenv waits for it rather than dying first.
    const ignore = (): void => {}
    process.on('SIGINT', ignore)
    child.once('exit', (code, signal) => {
      process.off('SIGINT', ignore)
      resolve(code ?? (signal ? 128 + (signalNumber(signal) ?? 1) : 1))
    })
  })
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 } as Record<string, number>)[signal]
}
