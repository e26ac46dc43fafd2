/**
 * Fault injection for the crash-safety tests: when DEVENV_SNAPSHOT_CRASH_AT names a step, the
 * process kills itself with SIGKILL there, exactly as a power cut or `kill -9` would stop it.
 */
export function crashPoint(step: string): void {
  if (process.env.DEVENV_SNAPSHOT_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
}
