import { spawn } from 'node:child_process'
import { DevenvError } from '../errors.js'
import type { ExecContext } from '../runtime/index.js'

/** Runs a command in a service's environment with the terminal attached; resolves to its exit code. */
export function runAttached(command: string, args: string[], context: ExecContext): Promise<number> {
  return new Promise((resolve, reject) => {
    const [program, ...programArgs] = context.enter ? [...context.enter, command, ...args] : [command, ...args]
    const child = spawn(program!, programArgs, { env: context.env, cwd: context.cwd, stdio: 'inherit' })
    child.once('error', (error: NodeJS.ErrnoException) => {
      reject(
        new DevenvError(
          error.code === 'ENOENT' ? 'USAGE' : 'RUNTIME',
          `cannot run ${command}: ${error.code === 'ENOENT' ? 'command not found' : error.message}`,
        ),
      )
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
