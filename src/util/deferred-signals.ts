/**
 * Runs `work` with Ctrl-C (SIGINT), SIGTERM and SIGHUP held back: a signal that arrives meanwhile
 * is raised again once `work` has finished, its cleanup included. For the short stretches where
 * dying would leave something the user notices (a database closed to connections), not for long
 * work; SIGKILL cannot be held, and what it leaves is recovered by the next operation.
 */
export async function withSignalsDeferred<T>(work: () => Promise<T>): Promise<T> {
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
  let received: NodeJS.Signals | undefined
  const hold = (signal: NodeJS.Signals): void => {
    received ??= signal
  }
  for (const signal of signals) process.on(signal, hold)
  try {
    return await work()
  } finally {
    for (const signal of signals) process.off(signal, hold)
    // With our listener gone, the default action (exit) applies when nobody else listens.
    if (received) process.kill(process.pid, received)
  }
}
