import { spawn } from 'node:child_process'
import { closeSync, createWriteStream, fsyncSync, openSync, readSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import type { EnvSpec } from '../../envfile/index.js'
import type { Endpoint } from '../driver.js'
import { type DatabaseRef } from './references.js'
import { DevenvError, usage } from '../../errors.js'
import { fsyncFolder } from '../../state/index.js'
import { ProjectPaths } from '../../state/index.js'
import { findClientTool, serverMajorVersion } from './binaries.js'
import { clientInstallAdvice } from './client-advice.js'
import { quoteIdentifier, withConnection, type ServerTarget } from './connection.js'
import { dropDatabase, resetDatabase, type DatabaseOutcome } from './databases.js'
import { readSuperuserPassword, SUPERUSER } from './layout.js'
import { startMaintenance } from './maintenance.js'
import { runSeedFile } from './seeder.js'

/** How the CLI reaches a running service as superuser: at the endpoint its runtime gives, with the password from its data folder. */
export function serverTargetOf(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint): ServerTarget {
  const superuserPassword = readSuperuserPassword(new ProjectPaths(spec.root).serviceData(ref.service.name))
  if (!superuserPassword) throw new DevenvError('DATABASE', `service ${ref.service.name} has no PostgreSQL cluster yet`, { hint: `Start it with \`devenv up ${ref.service.name}\`.` })
  return { host: endpoint.address, port: endpoint.port(ref.settings.port), superuserPassword }
}

function dataDirOf(spec: EnvSpec, ref: DatabaseRef): string {
  return new ProjectPaths(spec.root).serviceData(ref.service.name)
}

/**
 * `db reset`: back to the seeded state, from the template (seeds run again only if they
 * changed). Returns once the fresh copy is in place; dropping the old copy and cloning the next
 * spare go on in a detached process.
 */
export async function reset(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint, log: (line: string) => void): Promise<DatabaseOutcome> {
  return restoreThenMaintain(spec, ref, endpoint, { reseed: false, log })
}

/** `db seed`: the seeds run again into a fresh database (a failure leaves the current database as it is). */
export async function seed(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint, log: (line: string) => void): Promise<DatabaseOutcome> {
  return restoreThenMaintain(spec, ref, endpoint, { reseed: true, log })
}

async function restoreThenMaintain(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint, options: { reseed: boolean; log: (line: string) => void }): Promise<DatabaseOutcome> {
  const target = serverTargetOf(spec, ref, endpoint)
  const dataDir = dataDirOf(spec, ref)
  try {
    return await resetDatabase(target, dataDir, ref.database, options)
  } finally {
    // Also after a failure: a failed seed may leave a copy aside to drop.
    startMaintenance(target, dataDir)
  }
}

export type DumpFormat = 'plain' | 'gzip' | 'custom'

export function dumpFormatOf(file: string | undefined): DumpFormat {
  if (!file) return 'plain'
  if (/\.gz$/i.test(file)) return 'gzip'
  if (/\.(dump|pgdump|backup)$/i.test(file)) return 'custom'
  return 'plain'
}

/** `db dump`: pg_dump of the database, into `output` (atomically) or to stdout. */
export async function dump(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint, output: string | undefined): Promise<{ database: string; file?: string; format: DumpFormat; bytes: number }> {
  const target = serverTargetOf(spec, ref, endpoint)
  const serverMajor = await serverMajorOf(target)
  const pgDump = findClientTool('pg_dump', serverMajor)
  if (!pgDump) {
    const older = findClientTool('pg_dump')
    throw new DevenvError('DATABASE', `db dump needs pg_dump ${serverMajor} or newer (the server is PostgreSQL ${serverMajor})${older ? `; only pg_dump ${older.major} is installed (${older.path}), and pg_dump refuses newer servers` : ', and none is installed'}`, {
      hint: `Nothing was written. Get pg_dump ${serverMajor}: ${clientInstallAdvice(serverMajor)}; then run the command again. Without it, \`devenv snapshot save\` keeps a copy of the database.`,
    })
  }
  const format = dumpFormatOf(output)
  const args = ['--no-password', '-h', target.host, '-p', String(target.port), '-U', SUPERUSER, '-d', ref.database.name, '--no-owner', ...(format === 'custom' ? ['-Fc'] : [])]
  const child = spawn(pgDump.path, args, { env: { ...process.env, PGPASSWORD: target.superuserPassword }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)))
  const partial = output ? path.join(path.dirname(path.resolve(output)), `.${path.basename(output)}.${process.pid}.partial`) : undefined
  let bytes = 0
  child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length))
  try {
    const sink = partial ? createWriteStream(partial, { mode: 0o600 }) : process.stdout
    if (format === 'gzip') await pipeline(child.stdout, createGzip(), sink)
    else if (partial) await pipeline(child.stdout, sink)
    else child.stdout.pipe(process.stdout)
    const code = await exited
    if (code !== 0) throw new DevenvError('DATABASE', `pg_dump of ${ref.database.name} failed: ${stderr.trim() || `exit code ${code}`}`)
    if (partial && output) {
      const fd = openSync(partial, 'r+')
      fsyncSync(fd)
      closeSync(fd)
      renameSync(partial, path.resolve(output))
      fsyncFolder(path.dirname(path.resolve(output)))
    }
  } finally {
    if (partial) rmSync(partial, { force: true })
  }
  return { database: ref.database.name, ...(output ? { file: path.resolve(output) } : {}), format, bytes }
}

export type ImportFormat = 'sql' | 'sql.gz' | 'custom'

/** What a file holds, by its first bytes rather than its name. */
export function importFormatOf(file: string): ImportFormat {
  let fd: number
  try {
    fd = openSync(file, 'r')
  } catch {
    throw usage(`cannot read ${file}: no such file`)
  }
  const head = Buffer.alloc(5)
  const read = readSync(fd, head, 0, 5, 0)
  closeSync(fd)
  if (read >= 5 && head.toString('latin1') === 'PGDMP') return 'custom'
  if (read >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'sql.gz'
  return 'sql'
}

/** `db import`: a plain or gzipped SQL file (one transaction, as the database's owner) or a pg_dump custom archive (pg_restore). */
export async function importFile(spec: EnvSpec, ref: DatabaseRef, endpoint: Endpoint, file: string, options: { replace: boolean; log: (line: string) => void }): Promise<{ database: string; file: string; format: ImportFormat; replaced: boolean }> {
  const absolute = path.resolve(file)
  const format = importFormatOf(absolute)
  const target = serverTargetOf(spec, ref, endpoint)
  // Refuse before --replace drops anything: the archive needs a pg_restore.
  if (format === 'custom' && !findClientTool('pg_restore')) throw noRestoreTool(absolute, ref.settings)
  if (options.replace) {
    await withConnection(target, 'postgres', async (admin) => {
      await dropDatabase(admin, ref.database.name)
      await admin.query(`CREATE DATABASE ${quoteIdentifier(ref.database.name)} OWNER ${quoteIdentifier(ref.database.user)} ENCODING 'UTF8' TEMPLATE template0`)
    })
  }
  if (format === 'custom') await restoreArchive(target, ref, absolute)
  else await withConnection(target, ref.database.name, (client) => runSeedFile(client, { file: absolute, format }, ref.database.user, ref.database.name, 'importing into'))
  return { database: ref.database.name, file: absolute, format, replaced: options.replace }
}

async function restoreArchive(target: ServerTarget, ref: DatabaseRef, file: string): Promise<void> {
  const pgRestore = findClientTool('pg_restore')
  if (!pgRestore) throw noRestoreTool(file, ref.settings)
  const args = ['--no-password', '-h', target.host, '-p', String(target.port), '-U', SUPERUSER, '-d', ref.database.name, '--no-owner', `--role=${ref.database.user}`, '--single-transaction', '--exit-on-error', file]
  const child = spawn(pgRestore.path, args, { env: { ...process.env, PGPASSWORD: target.superuserPassword }, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const code = await new Promise<number>((resolve) => child.on('close', (exit) => resolve(exit ?? 1)))
  if (code !== 0) throw new DevenvError('DATABASE', `pg_restore ${pgRestore.major} could not import ${file} into ${ref.database.name}: ${stderr.trim() || `exit code ${code}`}`)
}

function noRestoreTool(file: string, settings: DatabaseRef['settings']): DevenvError {
  const major = Number.parseInt(settings.version ?? '', 10) || serverMajorVersion()
  return new DevenvError('DATABASE', `${file} is a pg_dump archive, and pg_restore is not installed`, {
    hint: `Nothing was changed. Get pg_restore: ${clientInstallAdvice(major)}; or import a plain .sql dump (\`db dump -o FILE.sql\`).`,
  })
}

async function serverMajorOf(target: ServerTarget): Promise<number> {
  return withConnection(target, 'postgres', async (client) => {
    const { rows } = await client.query<{ server_version_num: string }>('SHOW server_version_num')
    return Math.floor(Number(rows[0]!.server_version_num) / 10000)
  })
}

export { resolveDatabase, connectionUrl, databaseUrls, type DatabaseRef } from './references.js'
