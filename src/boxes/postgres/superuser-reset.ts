import { existsSync, rmSync } from 'node:fs'
import path from 'node:path'
import { writeFileAtomic } from '../../state/index.js'
import { connect, scramVerifier, type ServerTarget } from './connection.js'
import { SUPERUSER, superuserPassword } from './layout.js'

/**
 * A cluster is made (or copied from the machine-wide cache) with no superuser password, so no
 * project's password ever sits in a shared copy; until the project's own is set, nobody can log in
 * as the superuser over TCP (scram-sha-256 fails without a password). The first start sets it,
 * through the unix socket (trusted; its folder is the service's, 0700), before anything else.
 */
function pendingFile(dataDir: string): string {
  return path.join(dataDir, 'superuser-unset')
}

/** Marks a cluster about to be put in place as still lacking the project's superuser password. */
export function markSuperuserUnset(dataDir: string): void {
  writeFileAtomic(pendingFile(dataDir), 'the superuser password is set at the next start\n', 0o600)
}

/** Sets the project's superuser password when the cluster still lacks it; a no-op (one stat) otherwise. */
export async function setSuperuserPasswordIfUnset(dataDir: string, socketDir: string, port: number, signal?: AbortSignal): Promise<boolean> {
  if (!existsSync(pendingFile(dataDir))) return false
  const target: ServerTarget = { host: socketDir, port, superuserPassword: '' }
  const deadline = Date.now() + 60_000
  while (true) {
    if (signal?.aborted) return false
    try {
      const client = await connect(target, 'postgres', 2000)
      try {
        // A verifier, not the password: a failed statement would put the text in the server log.
        await client.query(`ALTER ROLE ${SUPERUSER} PASSWORD '${scramVerifier(superuserPassword(dataDir))}'`)
      } finally {
        await client.end().catch(() => {})
      }
      rmSync(pendingFile(dataDir), { force: true })
      return true
    } catch (error) {
      if (Date.now() > deadline) throw error
      // A fresh server accepts connections some 20-50 ms after its spawn: poll finely.
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }
}
