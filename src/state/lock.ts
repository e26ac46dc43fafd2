import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'

/** Runs `work` holding an exclusive lock on `file` (which need not exist), across processes. */
export async function withFileLock<T>(
  file: string,
  work: () => Promise<T> | T,
  options: { /** Wait minutes, not seconds: the holder may be a whole `up`. */ patient?: boolean } = {},
): Promise<T> {
  mkdirSync(path.dirname(file), { recursive: true })
  const target = `${file}.lock-target`
  writeFileSync(target, '', { flag: 'a' })
  // Loaded on first use: proper-lockfile brings graceful-fs, which patches fs as it loads (~7 ms
  // of every command's start), and `status` never locks.
  const { default: lockfile } = await import('proper-lockfile')
  const release = await lockfile.lock(target, {
    retries: { retries: options.patient ? 3000 : 200, factor: 1.2, minTimeout: 10, maxTimeout: 100 },
    stale: 10_000,
    realpath: false,
  })
  try {
    return await work()
  } finally {
    await release()
  }
}
