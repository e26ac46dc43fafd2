import { spawn, type ChildProcess } from 'node:child_process'
import type { BoxDriver, ServiceContext } from '../../src/boxes/driver.js'

export interface LaunchedBox {
  child: ChildProcess
  output(): string
  stop(): Promise<number | null>
}

/**
 * Prepares and launches a box through its driver, as the runtime does, and waits until its
 * output shows `readyLine` (rejecting if it exits first or takes over 10 s).
 */
export async function launchBox(driver: BoxDriver, context: ServiceContext, readyLine: string): Promise<LaunchedBox> {
  await driver.prepare?.(context)
  const launch = await driver.launch(context)
  const child = spawn(launch.command, launch.args, {
    cwd: launch.cwd,
    env: launch.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${driver.kind} server did not start: ${output}`)), 10_000)
    child.stdout!.on('data', () => {
      if (output.includes(readyLine)) {
        clearTimeout(timer)
        resolve()
      }
    })
    void exited.then(() => reject(new Error(`${driver.kind} server exited: ${output}`)))
  })
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      return exited
    },
  }
}
