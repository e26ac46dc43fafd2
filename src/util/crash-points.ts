/**
 * Fault injection for the crash-safety tests: when DEVENV_SNAPSHOT_CRASH_AT names a step, the
 * process kills itself with SIGKILL there, exactly as a power cut or `kill -9` would stop it;
 * DEVENV_SNAPSHOT_INTERRUPT_AT sends itself SIGINT there, as Ctrl-C would; and
 * DEVENV_SNAPSHOT_STOP_AT sends itself SIGSTOP there, as a process the scheduler left waiting
 * there would be, until the test lets it go on (SIGCONT): how a test puts another process's
 * step exactly between two of this one's. Every process a command starts inherits them (the
 * background upkeep too), so one run can stop or kill two processes at two named steps.
 */
export function crashPoint(step: string): void {
  if (process.env.DEVENV_SNAPSHOT_CRASH_AT === step) process.kill(process.pid, 'SIGKILL')
  if (process.env.DEVENV_SNAPSHOT_INTERRUPT_AT === step) process.kill(process.pid, 'SIGINT')
  if (process.env.DEVENV_SNAPSHOT_STOP_AT === step) process.kill(process.pid, 'SIGSTOP')
}
