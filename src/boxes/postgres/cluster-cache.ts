import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { open, readdir } from 'node:fs/promises'
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import type { DatabaseSpec } from '../../envfile/index.js'
import { fsyncFolder } from '../../state/index.js'
import { serverBinaries } from './binaries.js'
import { seedHash, listSeedFiles } from './seed-files.js'

const execFileAsync = promisify(execFile)

/**
 * A machine-wide cache of PostgreSQL clusters under DEVENV_HOME, so a cold `up` copies a cluster
 * instead of running initdb (about 1.5 s) and, when the seeds are unchanged, instead of seeding:
 *   cache/postgres/base-<key>/pgdata     a fresh cluster, per server build and file owner
 *   cache/postgres/seeded-<key>/         a cluster after its seeds ran (pgdata/ + initialised.json)
 * An entry is built aside and renamed into place, and never changed afterwards: a reader sees a
 * whole entry or none, and two projects starting at once at worst both build it (one rename wins).
 * No project ever runs on an entry: each gets its own copy. Entries hold no superuser password
 * (each project sets its own at the first start, superuser-reset.ts), and the folder is 0700.
 */
export interface ClusterOwner {
  uid?: number
  gid?: number
}

export function cacheRoot(machineHome: string): string {
  return path.join(machineHome, 'cache', 'postgres')
}

/** What makes two fresh clusters interchangeable: the server build, initdb's options, the files' owner. */
export function baseKey(owner: ClusterOwner): string {
  const binaries = serverBinaries()
  return digest(['devenv-cluster-v3', serverBuild(binaries.root), realpathSync(binaries.root), String(owner.uid ?? ''), String(owner.gid ?? '')])
}

/** What a seeded cluster depends on beyond its base: every database's name, role, password and seed files' content, and the settings it was seeded under. */
export function seededKey(base: string, databases: DatabaseSpec[], settings: Record<string, string>): string {
  const parts = [`devenv-seeded-v1`, base, JSON.stringify(Object.entries(settings).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))]
  for (const database of databases) parts.push(database.name, database.user, database.password, seedHash(database.name, listSeedFiles(database.seed, database.name)))
  return digest(parts)
}

export function baseEntry(machineHome: string, key: string): string {
  return path.join(cacheRoot(machineHome), `base-${key}`)
}

export function seededEntry(machineHome: string, key: string): string {
  return path.join(cacheRoot(machineHome), `seeded-${key}`)
}

/** The entry when it is complete (it exists only then); its use is recorded, for a future eviction by age. */
export function findEntry(entry: string): string | undefined {
  if (!existsSync(path.join(entry, 'pgdata', 'PG_VERSION'))) return undefined
  const now = new Date()
  try {
    utimesSync(entry, now, now)
  } catch {
    // a read-only cache still serves
  }
  return entry
}

/**
 * Publishes `fill`'s result as `entry`: fill a private folder beside it (awaited: the caller's
 * cluster may change right after), then, in the background, flush it to disk and rename it into
 * place. Losing the race to another process is fine: its entry is as good as ours. A process that
 * dies before the rename leaves a private folder the next publisher removes.
 */
export async function publishEntry(entry: string, fill: (folder: string) => Promise<void>): Promise<{ published: Promise<void> }> {
  const root = path.dirname(entry)
  mkdirSync(root, { recursive: true, mode: 0o700 })
  chmodSync(root, 0o700)
  removeAbandonedBuilds(root)
  const building = path.join(root, `.building-${process.pid}-${randomBytes(4).toString('hex')}`)
  mkdirSync(building, { mode: 0o700 })
  try {
    await fill(building)
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    throw error
  }
  const published = (async () => {
    try {
      await fsyncTree(building)
      try {
        renameSync(building, entry)
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
      }
      fsyncFolder(root)
    } finally {
      rmSync(building, { recursive: true, force: true })
    }
  })()
  return { published }
}

/** Copies a cluster folder, owners and modes kept; a reflink where the filesystem can (btrfs, xfs). */
export async function copyCluster(from: string, to: string): Promise<void> {
  rmSync(to, { recursive: true, force: true })
  if (process.platform === 'linux') {
    await execFileAsync('cp', ['-a', '--reflink=auto', from, to])
    return
  }
  cpSync(from, to, { recursive: true, preserveTimestamps: true })
}

/** Builds whose process is gone (killed mid-way) are removed; a live one is another project's, left alone. */
function removeAbandonedBuilds(root: string): void {
  for (const name of readdirSync(root)) {
    const match = /^\.(?:spare-)?building-(\d+)/.exec(name)
    if (!match) continue
    const pid = Number(match[1])
    if (pid !== process.pid && isAlive(pid)) continue
    if (pid === process.pid && Date.now() - statSync(path.join(root, name)).mtimeMs < 600_000) continue
    rmSync(path.join(root, name), { recursive: true, force: true })
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** An entry outlives the machine's next crash: its files reach the disk before its name appears. */
async function fsyncTree(folder: string): Promise<void> {
  for (const entry of await readdir(folder, { withFileTypes: true })) {
    const child = path.join(folder, entry.name)
    if (entry.isDirectory()) await fsyncTree(child)
    else if (entry.isFile()) {
      const handle = await open(child, 'r')
      try {
        await handle.sync()
      } finally {
        await handle.close()
      }
    }
  }
  fsyncFolder(folder)
}

/** The server build: the binaries package's name and version (reading it costs no process spawn). */
function serverBuild(root: string): string {
  try {
    const manifest = JSON.parse(readFileSync(path.join(root, '..', 'package.json'), 'utf8')) as { name?: string; version?: string }
    return `${manifest.name}@${manifest.version}`
  } catch {
    return `unknown:${statSync(path.join(root, 'bin', 'postgres')).mtimeMs}`
  }
}

function digest(parts: string[]): string {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part).update('\0')
  return hash.digest('hex').slice(0, 32)
}
