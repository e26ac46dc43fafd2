import { spawn } from 'node:child_process'
import { renameSync, statfsSync } from 'node:fs'
import path from 'node:path'

/**
 * A ready copy of a cluster cache entry, which the next cold `up` takes with one rename instead of
 * copying the entry. A cluster is ~1 600 files, and creating a file can cost far more than writing
 * it: on the team's machines ~0.5 ms of kernel CPU each (ext4 in a VM), so a copy took ~0.9 s of a
 * cold up that is otherwise ~1 s. The spare is made in the background, well after the start that
 * used the previous one, at the lowest CPU priority, and flushed to disk before it gets its name:
 * a spare is whole or absent, as an entry is (cluster-cache.ts). It costs one more cluster's room
 * (~55 MiB) per entry in use, and is not made on a disk with less than 1 GiB or 10 % free.
 */

/** How long after a cold up its entry's next spare is made: not while that stack is still starting. */
const REPLENISH_AFTER_MS = Number(process.env.DEVENV_CLUSTER_SPARE_AFTER_MS ?? 10_000)

export function spareOf(entry: string): string {
  return path.join(path.dirname(entry), `.spare-${path.basename(entry)}`)
}

/** Moves the entry's spare to `to` (which must not exist). False when there is none, or it is on another filesystem. */
export function takeSpare(entry: string, to: string): boolean {
  try {
    renameSync(spareOf(entry), to)
    return true
  } catch {
    return false
  }
}

// A detached shell, so the copy finishes (or cleans up) whether or not the supervisor still runs.
// Its folder is named after its own pid, as cluster-cache.ts's builds are: a live one is left alone,
// a dead one's is removed by the next publisher.
const REPLENISH = `
set -e
entry=$1 spare=$2
[ -e "$spare" ] && exit 0
building="$(dirname "$entry")/.spare-building-$$"
trap 'rm -rf "$building"' EXIT
cp -a --reflink=auto "$entry/pgdata" "$building"
sync -f "$building"
mv -T "$building" "$spare" 2>/dev/null || exit 0
sync -f "$spare"
`

/** A spare is a saving, never worth filling a disk: made only with this much room left beside it. */
const MIN_FREE_BYTES = 1024 ** 3
const MIN_FREE_SHARE = 0.1

/** Makes the entry's spare if it has none, REPLENISH_AFTER_MS from now; never fails the caller. */
export function replenishSpare(entry: string): void {
  if (process.platform !== 'linux') return
  const timer = setTimeout(() => {
    try {
      const { bavail, blocks, bsize } = statfsSync(path.dirname(entry))
      if (bavail * bsize < MIN_FREE_BYTES || bavail < blocks * MIN_FREE_SHARE) return
      const child = spawn('nice', ['-n', '19', 'sh', '-c', REPLENISH, 'sh', entry, spareOf(entry)], {
        detached: true,
        stdio: 'ignore',
      })
      child.on('error', () => undefined)
      child.unref()
    } catch {
      // The next cold up copies the entry, as without a spare.
    }
  }, REPLENISH_AFTER_MS)
  timer.unref()
}
