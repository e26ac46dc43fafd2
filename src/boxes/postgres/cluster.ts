import { execFile } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { DevenvError } from '../../errors.js'
import { writeFileAtomic } from '../../state/index.js'
import { serverBinaries } from './binaries.js'
import { asUnprivileged, type ServiceContext } from '../driver.js'
import { clusterDir, clusterExists, markerFilePath, SUPERUSER, superuserPassword } from './layout.js'

type ServiceUser = NonNullable<ServiceContext['runAs']>

const execFileAsync = promisify(execFile)

export interface ClusterOptions {
  dataDir: string
  runDir: string
  address: string
  port: number
  settings: Record<string, string>
  runAs?: ServiceUser
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
  if (!clusterExists(dataDir)) await createCluster(options)
  const pgdata = clusterDir(dataDir)
  // A cluster made for another user (the system user earlier versions ran it as) becomes the runner's.
  if (owner.uid !== undefined && statSync(pgdata).uid !== owner.uid) chownTree(pgdata, { uid: owner.uid, gid: owner.gid! })
  writeConfig(pgdata, { ...DEV_DEFAULTS, ...options.settings, ...ownSettings(options) }, runAs)
  writeHba(pgdata, runAs)
  // A server killed hard leaves its pid file; postgres itself checks whether that pid is alive.
}

async function createCluster(options: ClusterOptions): Promise<void> {
  const { dataDir, runDir, runAs } = options
  const pgdata = clusterDir(dataDir)
  // Build aside and rename, so an interrupted initdb never looks like a cluster.
  const building = `${pgdata}.init`
  rmSync(building, { recursive: true, force: true })
  rmSync(markerFilePath(dataDir), { force: true })
  const passwordFile = path.join(runDir, '.superuser-password')
  writeFileAtomic(passwordFile, `${superuserPassword(dataDir)}\n`, 0o600)
  const owner = ownerOf(runAs)
  if (owner.uid !== undefined) chownSync(passwordFile, owner.uid, owner.gid!)
  options.log('postgres: creating the database cluster (initdb)')
  try {
    const initdb = asUnprivileged(runAs, serverBinaries().initdb, ['-D', building, '-U', SUPERUSER, `--pwfile=${passwordFile}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-instructions'])
    await execFileAsync(initdb.command, initdb.args, { uid: runAs?.uid, gid: runAs?.gid, env: { ...process.env, LC_ALL: 'C' }, cwd: runDir })
  } catch (error) {
    rmSync(building, { recursive: true, force: true })
    const stderr = String((error as { stderr?: string }).stderr ?? '').trim()
    throw new DevenvError('BOX', `initdb failed in ${pgdata}: ${stderr || (error as Error).message}`, { cause: error })
  } finally {
    rmSync(passwordFile, { force: true })
  }
  appendFileSync(path.join(building, 'postgresql.conf'), "\n# devenv: generated settings, rewritten before every start\ninclude_if_exists = 'devenv.conf'\n")
  renameSync(building, pgdata)
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

function writeHba(pgdata: string, runAs?: ServiceUser): void {
  const hba = [
    '# Written by devenv. The unix socket lives in the service run folder (0700); TCP needs a password.',
    'local   all   all                  trust',
    'host    all   all   127.0.0.0/8    scram-sha-256',
    'host    all   all   ::1/128        scram-sha-256',
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
