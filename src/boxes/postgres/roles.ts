import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import type pg from 'pg'
import type { DatabaseSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { quoteIdentifier, quoteLiteral, scramVerifier } from './connection.js'
import { SUPERUSER } from './layout.js'

/**
 * Creates each role, or sets its password again when the envfile changed it. A role whose
 * stored verifier already matches is left alone: every start runs this, and a catalog write
 * (with its WAL flush) per role would be wasted. `verified` (the marker's verifiedRoles, updated
 * here) remembers which stored verifier a password was found to match, so that a start with
 * nothing changed makes no pbkdf2 of 4096 rounds per role (~5 ms of the supervisor's main thread,
 * on the way to every app waiting for the database). Says whether `verified` changed.
 */
export async function ensureRoles(admin: pg.Client, databases: DatabaseSpec[], verified: Record<string, string> = {}): Promise<boolean> {
  const passwords = new Map<string, string>()
  for (const database of databases) {
    if (database.user === SUPERUSER) {
      throw new DevenvError('ENVFILE_INVALID', `database ${database.name}: the user ${SUPERUSER} is reserved for devenv's administration of the server`, { hint: 'Give the database a user of its own, e.g. its name.' })
    }
    const known = passwords.get(database.user)
    if (known !== undefined && known !== database.password) {
      throw new DevenvError('ENVFILE_INVALID', `the user ${database.user} is given two different passwords`, { hint: 'A role has one password: use the same one for every database it owns.' })
    }
    passwords.set(database.user, database.password)
  }
  const { rows } = await admin.query<{ rolname: string; rolpassword: string | null; rolcanlogin: boolean }>(
    'SELECT rolname, rolpassword, rolcanlogin FROM pg_authid WHERE rolname = ANY($1)',
    [[...passwords.keys()]],
  )
  const existing = new Map(rows.map((row) => [row.rolname, row]))
  let changed = false
  for (const [user, password] of passwords) {
    const role = existing.get(user)
    if (role?.rolcanlogin) {
      const digest = verifiedDigest(role.rolpassword, password)
      if (verified[user] === digest) continue
      if (passwordMatches(role.rolpassword, password)) {
        verified[user] = digest
        changed = true
        continue
      }
    }
    const verifier = password === '' ? null : scramVerifier(password)
    const secret = verifier === null ? 'PASSWORD NULL' : `PASSWORD ${quoteLiteral(verifier)}`
    await admin.query(`${role ? 'ALTER' : 'CREATE'} ROLE ${quoteIdentifier(user)} WITH LOGIN ${secret}`)
    verified[user] = verifiedDigest(verifier, password)
    changed = true
  }
  return changed
}

/** A role's stored verifier (null: no password) and the password it was checked against, as one digest. */
function verifiedDigest(verifier: string | null, password: string): string {
  return createHash('sha256')
    .update(JSON.stringify([verifier, password]))
    .digest('hex')
}

/** Does a stored SCRAM-SHA-256 verifier belong to `password`? (Recomputed with its own salt and iterations.) */
export function passwordMatches(verifier: string | null, password: string): boolean {
  if (password === '') return verifier === null
  const match = /^SCRAM-SHA-256\$(\d+):([^$]+)\$([^:]+):(.+)$/.exec(verifier ?? '')
  if (!match) return false
  const [, iterations, salt, storedKey] = match as unknown as [string, string, string, string]
  const salted = pbkdf2Sync(password.normalize('NFKC'), Buffer.from(salt, 'base64'), Number(iterations), 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const computed = createHash('sha256').update(clientKey).digest()
  const stored = Buffer.from(storedKey, 'base64')
  return stored.length === computed.length && timingSafeEqual(stored, computed)
}
