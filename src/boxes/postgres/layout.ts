import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { readJson, writeJsonAtomic } from '../../state/index.js'

/**
 * What the postgres box keeps in a service's data folder:
 *   pgdata/             the cluster (owned by the service user)
 *   superuser.json      the administrative role's password (0600; never logged)
 *   initialised.json    which databases were created and seeded (written only after success)
 */
export const SUPERUSER = 'postgres'

export function clusterDir(dataDir: string): string {
  return path.join(dataDir, 'pgdata')
}

function superuserFile(dataDir: string): string {
  return path.join(dataDir, 'superuser.json')
}

function markerFile(dataDir: string): string {
  return path.join(dataDir, 'initialised.json')
}

export function clusterExists(dataDir: string): boolean {
  return existsSync(path.join(clusterDir(dataDir), 'PG_VERSION'))
}

/** The major version the cluster was made by (its PG_VERSION file), or undefined before initdb. */
export function clusterMajorVersion(dataDir: string): number | undefined {
  try {
    return Number.parseInt(readFileSync(path.join(clusterDir(dataDir), 'PG_VERSION'), 'utf8'), 10)
  } catch {
    return undefined
  }
}

/** The superuser password, created on first use. */
export function superuserPassword(dataDir: string): string {
  const stored = readJson<{ password?: string }>(superuserFile(dataDir))
  if (stored?.password) return stored.password
  const password = randomBytes(24).toString('base64url')
  writeJsonAtomic(superuserFile(dataDir), { user: SUPERUSER, password }, 0o600)
  return password
}

/** The superuser password of an existing service, for the db commands. */
export function readSuperuserPassword(dataDir: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(superuserFile(dataDir), 'utf8')) as { password?: string }).password
  } catch {
    return undefined
  }
}

export interface SeededDatabase {
  /** sha256 of the database's seed files (names and contents), in order. */
  seedHash: string
  template: string
  seededAt: string
}

export interface Marker {
  databases: Record<string, SeededDatabase>
  /** Per role, a digest of the stored verifier its envfile password was last found to match (roles.ts ensureRoles). */
  verifiedRoles?: Record<string, string>
}

export function readMarker(dataDir: string): Marker {
  return readJson<Marker>(markerFile(dataDir)) ?? { databases: {} }
}

export function writeMarker(dataDir: string, marker: Marker): void {
  writeJsonAtomic(markerFile(dataDir), marker, 0o600)
}

/** Forget the cluster's bookkeeping when it is created afresh (an old marker would lie). */
export function markerFilePath(dataDir: string): string {
  return markerFile(dataDir)
}
