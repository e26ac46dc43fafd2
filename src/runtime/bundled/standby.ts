/**
 * A supervisor started before the CLI has loaded: `devenv up` spends ~70 ms loading its own code
 * and resolving the envfile before it would spawn the supervisor, which then spends as long again
 * booting Node and loading its bundle. bin/devenv starts one in standby at once, on the other
 * core; it loads its code and waits on its stdin for its orders (supervisor-standby.ts). The CLI
 * hands it the project when it would have spawned one (client.ts), or drops it: it exits when its
 * stdin closes, so a CLI that fails, finds a live supervisor or exits any other way leaves nothing.
 *
 * Nothing but node: modules and a leaf of util here: bin/devenv imports this file before anything else.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { findUpward } from '../../util/find-upward.js'
import { carryingExtraCaCerts } from '../../util/node-start-env.js'

/** What the CLI tells a standby supervisor (one JSON line on its stdin). */
export interface StandbyOrders {
  root: string
  preparationModule: string
  /** The supervisor's log: its stdout and stderr from then on. */
  log: string
  /** The CLI's environment as it is when it hands over. */
  env: Record<string, string>
}

export const STANDBY_FLAG = '--standby'

interface Standby {
  child: ChildProcess
  /** The supervisor file it runs. */
  main: string
}

// Handed from bin/devenv to the runtime within one process: the CLI's bundle has its own copy of this module.
const HANDOFF = Symbol.for('devenv.standby-supervisor')
type WithHandoff = typeof globalThis & { [HANDOFF]?: Standby }

const ENVFILE_NAMES = ['devenv.yaml', 'devenv.yml']
const SUPERVISOR_MAIN = fileURLToPath(new URL('./supervisor-main.js', import.meta.url))
const SUPERVISOR_BUNDLE = fileURLToPath(new URL('../../bundle/supervisor-main.js', import.meta.url))

/**
 * For `devenv up` (its arguments after `up`, from `cwd`): starts a standby supervisor when the
 * project plainly runs on the bundled runtime with nothing to pull and no supervisor yet. Anything
 * unusual (-f, --runtime, --help, an image, `runtime:` in the envfile) just goes the usual way.
 */
export function startStandbySupervisor(args: readonly string[], cwd: string, env = process.env): void {
  if (process.platform !== 'linux' || env.DEVENV_NO_STANDBY === '1' || env.DEVENV_FILE || env.DEVENV_RUNTIME) return
  if (args.some((arg) => /^(-f|--file|--runtime|-h|--help|--attach|-a)(=|$)/.test(arg))) return
  // envfile/discover.ts's names: that module's imports are more than bin/devenv should load here.
  const envfile = findUpward(cwd, ENVFILE_NAMES)
  if (!envfile) return
  let text: string
  try {
    text = readFileSync(envfile, 'utf8')
  } catch {
    return
  }
  // The supervisor of a stack with images pulls them and needs the user's CA certificates (client.ts).
  if (/^\s*(runtime|image)\s*:/m.test(text)) return
  const root = path.dirname(envfile)
  if (supervisorMayRun(root)) return
  const main = supervisorFile()
  try {
    const child = spawn(process.execPath, [main, STANDBY_FLAG], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      cwd: root,
      env: carryingExtraCaCerts(env),
    })
    child.on('error', () => undefined)
    child.stdin?.on('error', () => undefined)
    child.unref()
    // Its stdin must not keep the CLI alive: the CLI's exit is what tells an unused standby to go.
    ;(child.stdin as unknown as { unref?: () => void } | null)?.unref?.()
    ;(globalThis as WithHandoff)[HANDOFF] = { child, main }
  } catch {
    // The usual spawn follows.
  }
}

/**
 * The standby supervisor bin/devenv started, if it still waits and runs `main`; taken once. One
 * that cannot be used is told to go.
 */
export function takeStandbySupervisor(main: string): ChildProcess | undefined {
  const holder = globalThis as WithHandoff
  const standby = holder[HANDOFF]
  delete holder[HANDOFF]
  if (!standby) return undefined
  if (
    standby.main !== main ||
    standby.child.exitCode !== null ||
    standby.child.signalCode !== null ||
    !standby.child.stdin
  ) {
    standby.child.stdin?.destroy()
    return undefined
  }
  return standby.child
}

/** Tells an unused standby supervisor to go (the CLI found a live supervisor, or is not starting one). */
export function dropStandbySupervisor(): undefined {
  const holder = globalThis as WithHandoff
  holder[HANDOFF]?.child.stdin?.destroy()
  delete holder[HANDOFF]
  return undefined
}

/** Gives a standby supervisor its orders; it is then the project's supervisor, as if just spawned. */
export function commandStandby(child: ChildProcess, orders: StandbyOrders): void {
  child.stdin!.end(`${JSON.stringify(orders)}\n`)
}

/** A supervisor's info file names a process that is alive: the CLI will talk to it (or replace it) instead. */
function supervisorMayRun(root: string): boolean {
  try {
    const { pid } = JSON.parse(readFileSync(path.join(root, '.devenv', 'supervisor.json'), 'utf8')) as { pid?: number }
    if (typeof pid !== 'number') return false
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The file to run the supervisor from: the bundle while a build made it after the tsc output. */
export function supervisorFile(): string {
  const modifiedAt = (file: string): number => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0
  return modifiedAt(SUPERVISOR_BUNDLE) >= modifiedAt(SUPERVISOR_MAIN) ? SUPERVISOR_BUNDLE : SUPERVISOR_MAIN
}
