import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto'
import pg from 'pg'
import { DevenvError } from '../../errors.js'
import { SUPERUSER } from './layout.js'

/** Where a running postgres service answers, and the superuser's password. */
export interface ServerTarget {
  host: string
  port: number
  superuserPassword: string
}

export async function connect(target: ServerTarget, database: string, timeoutMs = 5000): Promise<pg.Client> {
  const client = new pg.Client({
    host: target.host,
    port: target.port,
    user: SUPERUSER,
    password: target.superuserPassword,
    database,
    connectionTimeoutMillis: timeoutMs,
    application_name: 'devenv',
  })
  // An idle client whose server goes away emits 'error'; without a listener that kills the process.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw error
  }
  return client
}

export async function withConnection<T>(target: ServerTarget, database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  let client: pg.Client
  try {
    client = await connect(target, database)
  } catch (error) {
    throw new DevenvError('DATABASE', `cannot connect to PostgreSQL at ${target.host}:${target.port} (database ${database}): ${(error as Error).message}`, {
      hint: 'Is the service running? `devenv status` shows it.',
      cause: error,
    })
  }
  try {
    return await work(client)
  } finally {
    await client.end().catch(() => {})
  }
}

export const quoteIdentifier = pg.escapeIdentifier
export const quoteLiteral = pg.escapeLiteral

/**
 * A SCRAM-SHA-256 verifier, so the plain password never travels in a statement (where a failed
 * statement would put it in the server log).
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16)
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256')
  const clientKey = createHmac('sha256', salted).update('Client Key').digest()
  const storedKey = createHash('sha256').update(clientKey).digest()
  const serverKey = createHmac('sha256', salted).update('Server Key').digest()
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`
}
