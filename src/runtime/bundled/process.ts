import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import type { Launch } from '../../boxes/index.js'
import type { Clock } from '../../util/clock.js'
import { signalGroup } from '../../util/process-group.js'

export interface Exit {
  code: number | null
  signal: NodeJS.Signals | null
}

/**
 * One service process, leader of its own process group (so the whole tree it starts can be
 * signalled at once and nothing is orphaned). Output goes to the given sinks.
 */
export class ManagedProcess {
  readonly child: ChildProcess
  readonly pid: number
  /** Kernel start time of the process, so a recycled pid is never mistaken for it. */
  readonly startTicks: string | undefined
  readonly exited: Promise<Exit>
  private done = false

  constructor(launch: Launch, onOutput: (stream: 'out' | 'err', data: Buffer) => void) {
    this.child = spawn(launch.command, launch.args, {
      cwd: launch.cwd,
      env: launch.env,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(launch.uid !== undefined ? { uid: launch.uid } : {}),
      ...(launch.gid !== undefined ? { gid: launch.gid } : {}),
    })
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true
        // Whatever the leader started dies with it (as in a container whose pid 1 exits): a child
        // left behind would hold the service's ports and outlive `down`.
        killGroupRemains(this.pid)
        resolve({ code, signal })
      })
      this.child.once('error', (error) => {
        this.done = true
        onOutput('err', Buffer.from(`cannot start ${launch.command}: ${error.message}\n`))
        resolve({ code: 127, signal: null })
      })
    })
    this.pid = this.child.pid ?? -1
    this.startTicks = this.pid > 0 ? processStartTicks(this.pid) : undefined
    this.child.stdout?.on('data', (data: Buffer) => onOutput('out', data))
    this.child.stderr?.on('data', (data: Buffer) => onOutput('err', data))
  }

  get running(): boolean {
    return !this.done
  }

  /** Asks the group to stop with `signal`, then SIGKILLs it after `timeoutMs`. */
  async stop(signal: NodeJS.Signals, timeoutMs: number, clock: Clock): Promise<Exit> {
    if (this.done) return this.exited
    signalGroup(this.pid, signal)
    const timedOut = Symbol('timeout')
    const abort = new AbortController()
    const outcome = await Promise.race([
      this.exited,
      clock.sleep(timeoutMs, abort.signal).then(
        () => timedOut,
        () => timedOut,
      ),
    ])
    abort.abort()
    if (outcome === timedOut) {
      signalGroup(this.pid, 'SIGKILL')
      return this.exited
    }
    // The leader is gone; make sure nothing it started lingers in its group.
    signalGroup(this.pid, 'SIGKILL')
    return outcome as Exit
  }
}

/**
 * SIGKILLs what is left of a process group whose leader has exited. Only the group is signalled,
 * never the pid itself: the kernel does not reuse a pid while its group has members, but may once
 * the leader is reaped.
 */
function killGroupRemains(pgid: number): void {
  if (pgid <= 0) return
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // the group is empty
  }
}

/** Field 22 of /proc/<pid>/stat: when the process started, in clock ticks since boot. */
export function processStartTicks(pid: number): string | undefined {
  return statFields(pid)?.[19]
}

/** The fields of /proc/<pid>/stat after the command name: [0] is the state (R, S, Z...). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

/** Is this the very process we started (alive, and not a recycled pid)? */
export function isSameProcess(pid: number, startTicks: string | undefined): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  if (process.platform !== 'linux') return true
  const fields = statFields(pid)
  // A zombie has exited; where nobody reaps orphans (some containers), it lingers as one.
  if (!fields || fields[0] === 'Z' || fields[0] === 'X') return false
  return startTicks === undefined || fields[19] === startTicks
}
