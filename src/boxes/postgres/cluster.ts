import { execFile } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { DevenvError } from '../../errors.js'
import { writeFileAtomic } from '../../state/index.js'
import { serverBinaries } from './binaries.js'
import { asUnprivileged, type ServiceContext } from '../driver.js'
import type { DatabaseSpec } from '../../envfile/index.js'
import { baseEntry, baseKey, copyCluster, findEntry, publishEntry, seededEntry, seededKey } from './cluster-cache.js'
import { initialiseDatabases } from './databases.js'
import { clusterDir, clusterExists, markerFilePath, SUPERUSER } from './layout.js'
import { replenishSpare, takeSpare } from './cluster-spare.js'
import { startScratchServer } from './scratch-server.js'
import { markSuperuserUnset } from './superuser-reset.js'

type ServiceUser = NonNullable<ServiceContext['runAs']>

const execFileAsync = promisify(execFile)

export interface ClusterOptions {
  dataDir: string
  runDir: string
  address: string
  port: number
  settings: Record<string, string>
  runAs?: ServiceUser
  /** DEVENV_HOME: where the machine-wide cluster cache lives (none: initdb every time). */
  machineHome?: string
  /** The databases to create and seed before the cluster first goes live (and to key the seeded cache by). */
  databases?: DatabaseSpec[]
  log(line: string): void
}

/**
 * Defaults for a development database, which `settings:` may override: keep little old
 * write-ahead log (PostgreSQL otherwise keeps up to 1 GB of recycled segments), so the data
 * folder, its snapshots and their restores stay about the size of the data.
 */
const DEV_DEFAULTS: Record<string, string> = {
  wal_recycle: 'off',
  min_wal_size: '32MB',
}

/** The settings devenv decides; they come last so a user's `settings:` cannot open the server wider. */
function ownSettings(options: ClusterOptions): Record<string, string> {
  return {
    listen_addresses: options.address,
    port: String(options.port),
    unix_socket_directories: options.runDir,
    unix_socket_permissions: '0700',
    logging_collector: 'off',
  }
}

/** Idempotent: creates the cluster the first time, rewrites devenv.conf and pg_hba.conf every time. */
export async function prepareCluster(options: ClusterOptions): Promise<void> {
  const { dataDir, runDir, runAs } = options
  mkdirSync(dataDir, { recursive: true })
  mkdirSync(runDir, { recursive: true })
  const owner = ownerOf(runAs)
  if (runAs?.uid !== undefined) ensureReachable(runAs, [dataDir, runDir, serverBinaries().root])
  if (owner.uid !== undefined) {
    chownSync(dataDir, owner.uid, owner.gid!)
    chownSync(runDir, owner.uid, owner.gid!)
  }
  chmodSync(runDir, 0o700)
  if (!clusterExists(dataDir)) await provisionCluster(options)
  const pgdata = clusterDir(dataDir)
  // A cluster made for another user (the system user earlier versions ran it as) becomes the runner's.
  if (owner.uid !== undefined && statSync(pgdata).uid !== owner.uid) chownTree(pgdata, { uid: owner.uid, gid: owner.gid! })
  writeConfig(pgdata, { ...DEV_DEFAULTS, ...options.settings, ...ownSettings(options) }, runAs)
  writeHba(pgdata, runAs, options.address === '0.0.0.0')
  // A server killed hard leaves its pid file; postgres itself checks whether that pid is alive.
}

/**
 * Puts a cluster in place, built aside and renamed so an interrupted start never leaves half of
 * one: a copy of the machine-wide cache's seeded cluster when the seeds are unchanged, else a copy
 * of its fresh cluster (or initdb, which then fills the cache) seeded aside before it goes live.
 */
async function provisionCluster(options: ClusterOptions): Promise<void> {
  const { dataDir, machineHome } = options
  const building = `${clusterDir(dataDir)}.init`
  rmSync(building, { recursive: true, force: true })
  rmSync(markerFilePath(dataDir), { force: true })
  if (!machineHome) await createCluster(options, building)
  else await provisionFromCache(options, machineHome, building)
  markSuperuserUnset(dataDir)
  renameSync(building, clusterDir(dataDir))
}

async function provisionFromCache(options: ClusterOptions, machineHome: string, building: string): Promise<void> {
  const { dataDir, log } = options
  const databases = options.databases ?? []
  const base = baseKey(ownerOf(options.runAs))
  let seeded: string | undefined
  try {
    seeded = databases.length ? seededKey(base, databases, options.settings) : undefined
  } catch {
    // A seed that cannot be read: the service's own seeding names it, at its first start.
  }
  const seededHit = seeded ? findEntry(seededEntry(machineHome, seeded)) : undefined
  const seededWay = seededHit ? await copiedFrom(seededHit, building, log) : undefined
  if (seededWay) {
    writeFileAtomic(markerFilePath(dataDir), readFileSync(path.join(seededHit!, MARKER_IN_ENTRY)), 0o600)
    log(`postgres: cluster ${seededWay} from the seeded cache (${seeded!.slice(0, 12)}): no initdb, no seeds to run`)
    return
  }
  const baseHit = findEntry(baseEntry(machineHome, base))
  const baseWay = baseHit ? await copiedFrom(baseHit, building, log) : undefined
  if (baseWay) {
    log(`postgres: fresh cluster ${baseWay} from the machine-wide cache: no initdb`)
  } else {
    await createCluster(options, building)
    await cacheInBackground(publishEntry(baseEntry(machineHome, base), (folder) => copyCluster(building, path.join(folder, 'pgdata'))), log, 'the fresh cluster', 'cached: the next cold up copies it instead of running initdb')
  }
  if (seeded) await seedAside(options, building, seededEntry(machineHome, seeded))
}

const MARKER_IN_ENTRY = 'initialised.json'

/**
 * The entry's cluster into `building`, and how it got there (for the log); undefined when that failed. An entry
 * removed by hand while it was being copied is no reason to fail: the caller makes the cluster instead.
 */
async function copiedFrom(entry: string, building: string, log: (line: string) => void): Promise<string | undefined> {
  // The next cold up with this entry takes a ready copy too (cluster-spare.ts).
  replenishSpare(entry)
  if (takeSpare(entry, building)) return 'moved in (one rename of its ready copy; the next one is made in the background)'
  try {
    await copyCluster(path.join(entry, 'pgdata'), building)
    return 'copied'
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    log(`postgres: could not copy the cached cluster ${entry} (${(error as Error).message.split('\n')[0]}); making one instead`)
    return undefined
  }
}

/**
 * Seeds the cluster before it goes live, on a server no one else can reach, then caches the result.
 * Should that fail, the cluster goes live as it is and the service's own seeding runs the seeds
 * again, failing (if it does) with the file and line, as it would have without the cache.
 */
async function seedAside(options: ClusterOptions, building: string, entry: string): Promise<void> {
  const { dataDir, log } = options
  writeConfig(building, { ...DEV_DEFAULTS, ...options.settings, ...ownSettings(options) }, options.runAs)
  writeHba(building, options.runAs, options.address === '0.0.0.0')
  try {
    const server = await startScratchServer(building, options.runDir, options.port, options.runAs, dataDir)
    try {
      const outcomes = await initialiseDatabases(server.target, dataDir, options.databases ?? [], log)
      for (const outcome of outcomes) log(`postgres: database ${outcome.database} seeded (${outcome.seedFiles} seed file(s), ${outcome.durationMs} ms) before the first start`)
    } finally {
      await server.stop()
    }
  } catch (error) {
    log(`postgres: seeding before the first start failed; the service seeds at its start instead (${(error as Error).message.split('\n')[0]})`)
    return
  }
  await cacheInBackground(
    publishEntry(entry, async (folder) => {
      await copyCluster(building, path.join(folder, 'pgdata'))
      writeFileAtomic(path.join(folder, MARKER_IN_ENTRY), readFileSync(markerFilePath(dataDir)), 0o600)
    }),
    log,
    `the seeded cluster (${path.basename(entry).slice(7, 19)})`,
    'cached: the next cold up with these seeds copies it',
  )
}

/** A cache entry is a saving for later: failing to make one is said in the log, never fatal. */
async function cacheInBackground(publishing: Promise<{ published: Promise<void> }>, log: (line: string) => void, what: string, done: string): Promise<void> {
  try {
    const { published } = await publishing
    void published.then(
      () => log(`postgres: ${what} ${done}`),
      (error: Error) => log(`postgres: ${what} was not cached: ${error.message}`),
    )
  } catch (error) {
    log(`postgres: ${what} was not cached: ${(error as Error).message}`)
  }
}

/**
 * PostgreSQL's own 16 MiB WAL segments. 1 MiB ones made copies from the cache a third smaller,
 * but a server that must create a new segment every MiB PANICs as soon as the disk fills (a
 * preallocated 16 MiB segment keeps it serving): on a full disk it must refuse writes, not crash.
 */
const WAL_SEGMENT_MIB = 16

/** initdb into `building`, with no superuser password (the project's own is set at the first start). */
async function createCluster(options: ClusterOptions, building: string): Promise<void> {
  const { runDir, runAs } = options
  options.log('postgres: creating the database cluster (initdb)')
  try {
    const initdb = asUnprivileged(runAs, serverBinaries().initdb, ['-D', building, '-U', SUPERUSER, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions', `--wal-segsize=${WAL_SEGMENT_MIB}`])
    await execFileAsync(initdb.command, initdb.args, { uid: runAs?.uid, gid: runAs?.gid, env: { ...process.env, LC_ALL: 'C' }, cwd: runDir })
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim()
    throw new DevenvError('BOX', `initdb failed in ${clusterDir(options.dataDir)}: ${stderr || (error as Error).message}`, { cause: error })
  }
  appendFileSync(path.join(building, 'postgresql.conf'), "\n# devenv: generated settings, rewritten before every start\ninclude_if_exists = 'devenv.conf'\n")
}

/**
 * Who must own the cluster's files: the system user it runs as, or (in a user namespace, whose
 * `nobody` is root outside) root itself; nobody to change to when devenv is not root.
 */
function ownerOf(runAs: ServiceUser | undefined): { uid?: number; gid?: number } {
  if (!runAs) return {}
  if (runAs.uid !== undefined) return { uid: runAs.uid, gid: runAs.gid ?? runAs.uid }
  return { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 }
}

function quoteSetting(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`
}

const SETTING_NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/

function writeConfig(pgdata: string, settings: Record<string, string>, runAs?: ServiceUser): void {
  const lines = ['# Written by devenv before every start; edit `settings:` in devenv.yaml instead.']
  for (const [name, value] of Object.entries(settings)) {
    if (!SETTING_NAME.test(name)) throw new DevenvError('ENVFILE_INVALID', `postgres setting name ${JSON.stringify(name)} is not a valid parameter name`)
    lines.push(`${name} = ${quoteSetting(String(value))}`)
  }
  writeOwned(path.join(pgdata, 'devenv.conf'), `${lines.join('\n')}\n`, runAs)
}

function writeHba(pgdata: string, runAs?: ServiceUser, ownNetwork = false): void {
  const hba = [
    '# Written by devenv. The unix socket lives in the service run folder (0700); TCP needs a password.',
    'local   all   all                  trust',
    'host    all   all   127.0.0.0/8    scram-sha-256',
    'host    all   all   ::1/128        scram-sha-256',
    // In a container of its own (listening on 0.0.0.0) clients come from the project network and the engine's port proxy.
    ...(ownNetwork ? ['host    all   all   0.0.0.0/0      scram-sha-256'] : []),
    '',
  ].join('\n')
  writeOwned(path.join(pgdata, 'pg_hba.conf'), hba, runAs)
}

/** Written only when it changed: an atomic write costs two fsyncs, and `prepare` runs on every start. */
function writeOwned(file: string, content: string, runAs?: ServiceUser): void {
  if (unchanged(file, content, runAs)) return
  writeFileAtomic(file, content, 0o600)
  const owner = ownerOf(runAs)
  if (owner.uid !== undefined) chownSync(file, owner.uid, owner.gid!)
}

function unchanged(file: string, content: string, runAs?: ServiceUser): boolean {
  try {
    const stat = statSync(file)
    const owner = ownerOf(runAs)
    if ((stat.mode & 0o777) !== 0o600 || (owner.uid !== undefined && stat.uid !== owner.uid)) return false
    return readFileSync(file, 'utf8') === content
  } catch {
    return false
  }
}

function chownTree(folder: string, owner: { uid: number; gid: number }): void {
  chownSync(folder, owner.uid, owner.gid)
  for (const entry of readdirSync(folder, { withFileTypes: true })) {
    const child = path.join(folder, entry.name)
    if (entry.isDirectory()) chownTree(child, owner)
    else if (!lstatSync(child).isSymbolicLink()) chownSync(child, owner.uid, owner.gid)
  }
}

/**
 * The server runs as `runAs`, so every folder above its data, socket and binaries must let that
 * user through. Say which one does not, rather than let postgres fail with "permission denied".
 */
function ensureReachable(runAs: ServiceUser, targets: string[]): void {
  for (const target of targets) {
    let folder = path.dirname(path.resolve(target))
    while (true) {
      if (existsSync(folder)) {
        const stat = statSync(folder)
        const searchable = stat.uid === runAs.uid ? stat.mode & 0o100 : stat.gid === runAs.gid ? stat.mode & 0o010 : stat.mode & 0o001
        if (!searchable) {
          throw new DevenvError('BOX', `PostgreSQL runs as the user ${runAs.user}, who cannot reach ${target}: ${folder} is closed to it`, {
            hint: `Let it through with \`setfacl -m u:${runAs.user}:x ${folder}\` (or \`chmod o+x ${folder}\`), or keep the project somewhere readable such as /srv or /home.`,
          })
        }
      }
      const parent = path.dirname(folder)
      if (parent === folder) break
      folder = parent
    }
  }
}
