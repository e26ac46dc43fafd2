/**
 * Fault injection for the crash-safety tests: when DEVENV_SNAPSHOT_CRASH_AT names a step, the
 * process kills itself with SIGKILL there, exactly as a power cut or `kill -9` would stop it;
 * DEVENV_SNAPSHOT_INTERRUPT_AT sends itself SIGINT there, as Ctrl-C would.
 */
export function crashPoint(step: string): void {
  if (process.env.DEVENV_SNAPSHOT_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
  if (process.env.DEVENV_SNAPSHOT_INTERRUPT_AT === step) process.kill(process.pid, 'SIGINT')
}
