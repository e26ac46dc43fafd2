import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'

/** The hosts file devenv manages: DEVENV_HOSTS_FILE when set (tests, containers), else the system's. */
export function hostsFilePath(): string {
  if (process.env.DEVENV_HOSTS_FILE) return path.resolve(process.env.DEVENV_HOSTS_FILE)
  if (process.platform === 'win32') {
    return path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32', 'drivers', 'etc', 'hosts')
  }
  return '/etc/hosts'
}

/** The line ending for a hosts file that has none yet. */
export function platformEol(): string {
  return process.platform === 'win32' ? '\r\n' : '\n'
}

/**
 * Runs `work` holding the machine-wide lock of one hosts file. The lock lives in the temporary
 * folder, not beside the file: /etc is not writable by the user, and the elevated helper (root)
 * must find the same lock.
 */
export async function withHostsLock<T>(file: string, work: () => Promise<T> | T): Promise<T> {
  const id = createHash('sha256').update(path.resolve(file)).digest('hex').slice(0, 16)
  const { default: lockfile } = await import('proper-lockfile') // on first use, as in state/lock.ts
  const release = await lockfile.lock(file, {
    lockfilePath: path.join(os.tmpdir(), `devenv-hosts-${id}.lock`),
    realpath: false,
    retries: { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 100 },
    stale: 10_000,
  })
  try {
    return await work()
  } finally {
    await release()
  }
}
