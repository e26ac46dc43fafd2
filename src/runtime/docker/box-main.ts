import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { driverFor } from '../../boxes/index.js'
import { containerServiceContext, readBoxContext } from './box-context.js'

/**
 * The box runner, a built-in box's entry point in its container: the same driver as on the bundled
 * runtime prepares the box, starts its program, and does its first-boot work (seeding). It listens
 * on every address of the container's own network; peers are reached by their names on the
 * project network. Stop signals are passed on; it exits as its program does.
 */
async function main(): Promise<void> {
  const { box, service } = readBoxContext()
  const driver = await driverFor(service.kind)
  const abort = new AbortController()
  const log = (line: string): void => void process.stdout.write(`${line}\n`)
  const context = containerServiceContext(box, service, log, abort.signal)
  mkdirSync(context.dataDir, { recursive: true })
  mkdirSync(context.runDir, { recursive: true })
  await driver.prepare?.(context)
  const launch = await driver.launch(context)
  const child = spawn(launch.command, launch.args, {
    env: launch.env,
    cwd: launch.cwd,
    stdio: 'inherit',
    ...(launch.uid !== undefined ? { uid: launch.uid } : {}),
    ...(launch.gid !== undefined ? { gid: launch.gid } : {}),
  })
  const stopSignal = launch.stopSignal ?? 'SIGTERM'
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      abort.abort()
      child.kill(signal === 'SIGHUP' ? 'SIGHUP' : stopSignal)
    })
  }
  let failed = false
  child.once('exit', (code, signal) => process.exit(failed ? 1 : (code ?? (signal ? 128 + 15 : 1))))
  if (driver.initialise) {
    try {
      await driver.initialise(context)
      log(`devenv: ${service.name} initialised`)
    } catch (error) {
      log(`devenv: initialise failed: ${(error as Error).message}`)
      failed = true
      child.kill(stopSignal)
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`devenv box runner: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
