// execa is loaded on the first watch command: the supervisor should not pay for it at boot.

export interface WatchCommandOptions {
  cwd: string
  /** The service's environment; laid over the supervisor's own, so PATH and HOME stay. */
  env: Record<string, string>
  /** Receives each line the command prints, stdout and stderr alike, as it comes. */
  log(line: string): void
  /** Aborting stops the command and everything it started. */
  signal?: AbortSignal
  timeoutMs?: number
  /** Between SIGTERM and SIGKILL when the command is stopped. */
  killGraceMs?: number
}

export interface WatchCommandResult {
  ok: boolean
  exitCode?: number
  signal?: string
  aborted: boolean
  timedOut: boolean
  durationMs: number
}

/**
 * Runs a mount's watch command (`npm run build`) through the shell, in a process group of its
 * own so that stopping it (abort, timeout) also stops whatever it spawned, and so that nothing
 * it left in the background outlives it. Never rejects for the command's own failure.
 */
export async function runWatchCommand(command: string, options: WatchCommandOptions): Promise<WatchCommandResult> {
  const started = performance.now()
  const lines = {
    // A generator transform that yields nothing: each line goes to the log, none to the result.
    // eslint-disable-next-line require-yield
    *transform(line: unknown) {
      options.log(String(line))
    },
  }
  const { execa } = await import('execa')
  const subprocess = execa(command, {
    shell: true,
    cwd: options.cwd,
    env: options.env,
    extendEnv: true,
    detached: true,
    stdin: 'ignore',
    stdout: lines,
    stderr: lines,
    buffer: false,
    reject: false,
  })
  const group = subprocess.pid
  let aborted = false
  let timedOut = false
  let killTimer: NodeJS.Timeout | undefined
  const stopGroup = () => {
    if (group === undefined || killTimer) return
    signalGroup(group, 'SIGTERM')
    killTimer = setTimeout(() => signalGroup(group, 'SIGKILL'), options.killGraceMs ?? 2000)
    killTimer.unref()
  }
  const onAbort = () => {
    aborted = true
    stopGroup()
  }
  if (options.signal?.aborted) onAbort()
  else options.signal?.addEventListener('abort', onAbort, { once: true })
  const timeout =
    options.timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true
          stopGroup()
        }, options.timeoutMs)
  // A background child still holding the output pipes would keep the result waiting forever.
  subprocess.once('exit', stopGroup)
  try {
    const result = await subprocess
    return {
      ok: !result.failed && !aborted && !timedOut,
      exitCode: result.exitCode,
      signal: result.signal,
      aborted,
      timedOut,
      durationMs: Math.round(performance.now() - started),
    }
  } finally {
    if (timeout) clearTimeout(timeout)
    // A child that ignored SIGTERM still gets its SIGKILL; otherwise there is nothing to wait for.
    if (killTimer && (group === undefined || !groupAlive(group))) clearTimeout(killTimer)
    options.signal?.removeEventListener('abort', onAbort)
  }
}

function groupAlive(group: number): boolean {
  try {
    process.kill(-group, 0)
    return true
  } catch {
    return false
  }
}

function signalGroup(group: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-group, signal)
  } catch {
    // The group is already gone.
  }
}
