/** A throwaway copy of a fixture project, with its generated seeds, for the postgres tests. */
import { cpSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gzipSync } from 'node:zlib'
import { execFileSync } from 'node:child_process'
import { tempRoot } from './harness.js'
import type { DatabaseSpec } from '../../src/envfile/model.js'

const fixtures = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures')

export const ORDER_COUNT = 5000

export function seedProject(fixture = 'postgres-seeds'): { root: string; database: DatabaseSpec; serviceRoot: string } {
  const root = tempRoot('devenv-pg-project-')
  cpSync(path.join(fixtures, fixture), root, { recursive: true })
  // 5,000 inserts, gzipped: generated rather than kept in git.
  const inserts: string[] = ['-- generated orders']
  for (let id = 1; id <= ORDER_COUNT; id++)
    inserts.push(`INSERT INTO orders (id, person_id, amount) VALUES (${id}, ${(id % 4) + 1}, ${(id % 100) + 0.5});`)
  writeFileSync(path.join(root, 'db', 'data', '03-orders.sql.gz'), gzipSync(inserts.join('\n') + '\n'))
  return {
    root,
    serviceRoot: path.join(root, '.devenv', 'services', 'db'),
    database: {
      name: 'shop',
      user: 'shopper',
      password: "s3cret p@ss'word",
      seed: [path.join(root, 'db', '01-schema.sql'), path.join(root, 'db', 'data')],
    },
  }
}

export const PSQL = '/usr/bin/psql'

/** A query through the real psql client, as the given user, over TCP with a password. */
export function psql(
  options: { host: string; port: number; user: string; password: string; database: string },
  sql: string,
): string {
  return execFileSync(
    PSQL,
    [
      '-X',
      '-q',
      '-At',
      '-v',
      'ON_ERROR_STOP=1',
      '-h',
      options.host,
      '-p',
      String(options.port),
      '-U',
      options.user,
      '-d',
      options.database,
      '-c',
      sql,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, PGPASSWORD: options.password, PGCONNECT_TIMEOUT: '5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim()
}
