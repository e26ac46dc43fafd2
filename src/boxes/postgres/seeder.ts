import { createReadStream, readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { createGunzip, gunzipSync } from 'node:zlib'
import type pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { DevenvError } from '../../errors.js'
import { quoteIdentifier } from './connection.js'
import { csvHeader, csvTable, type SeedFile } from './seed-files.js'
import { lineAtOffset, offsetOfPosition, splitStatements } from './sql-text.js'

interface PostgresError extends Error {
  position?: string
  where?: string
  detail?: string
  hint?: string
  code?: string
}

/** Runs one seed file in a transaction of its own, as `owner`. Fails with the file, the line and PostgreSQL's message. */
export async function runSeedFile(client: pg.Client, seed: SeedFile, owner: string, database: string, doing = 'seeding'): Promise<void> {
  await client.query('BEGIN')
  try {
    await client.query(`SET LOCAL ROLE ${quoteIdentifier(owner)}`)
    if (seed.format === 'sql' || seed.format === 'sql.gz') await runSql(client, seed, owner)
    else await runCsv(client, seed)
    await client.query('COMMIT')
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {})
    if (error instanceof DevenvError) throw error
    throw seedError(seed.file, database, error as PostgresError, doing)
  }
}

export function readSql(seed: SeedFile): string {
  const raw = readFileSync(seed.file)
  let text: string
  try {
    text = (seed.format === 'sql.gz' ? gunzipSync(raw) : raw).toString('utf8')
  } catch (error) {
    throw new DevenvError('DATABASE', `seed ${seed.file} is not a valid gzip file: ${(error as Error).message}`, { location: { file: seed.file } })
  }
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

async function runSql(client: pg.Client, seed: SeedFile, owner: string): Promise<void> {
  const sql = readSql(seed)
  try {
    // The whole file as one simple-protocol query: dollar-quoted bodies and many statements just work.
    await client.query(sql)
  } catch (error) {
    const failure = error as PostgresError & { line?: number }
    if (failure.position) failure.line = lineAtOffset(sql, offsetOfPosition(sql, Number(failure.position)))
    else failure.line = await locateFailingStatement(client, sql, owner)
    throw failure
  }
}

/**
 * PostgreSQL gives no position for errors found while executing (a constraint violation, a
 * division by zero). Replay the statements one at a time, in a transaction that is rolled
 * back, to find the one that fails.
 */
async function locateFailingStatement(client: pg.Client, sql: string, owner: string): Promise<number | undefined> {
  const statements = splitStatements(sql)
  if (statements.length < 2) return statements[0] ? lineAtOffset(sql, statements[0].offset) : undefined
  try {
    await client.query('ROLLBACK')
    await client.query('BEGIN')
    await client.query(`SET LOCAL ROLE ${quoteIdentifier(owner)}`)
    for (const statement of statements) {
      try {
        await client.query(statement.text)
      } catch {
        return lineAtOffset(sql, statement.offset)
      }
    }
  } catch {
    // Could not replay (the file manages transactions itself): no line, the message still says what.
  } finally {
    await client.query('ROLLBACK').catch(() => {})
  }
  return undefined
}

async function runCsv(client: pg.Client, seed: SeedFile): Promise<void> {
  const { schema, table } = csvTable(seed.file)
  const header = csvHeader(await readHead(seed))
  if (header.length === 0 || header.some((column) => column === '')) {
    throw new DevenvError('DATABASE', `seed ${seed.file}: the first row must name the columns of table ${table}`, { location: { file: seed.file, line: 1 } })
  }
  const target = (schema ? `${quoteIdentifier(schema)}.` : '') + quoteIdentifier(table)
  const columns = header.map((column) => quoteIdentifier(column)).join(', ')
  const copy = client.query(copyFrom(`COPY ${target} (${columns}) FROM STDIN WITH (FORMAT csv, HEADER true, ENCODING 'UTF8')`))
  const source = createReadStream(seed.file)
  if (seed.format === 'csv.gz') await pipeline(source, createGunzip(), copy)
  else await pipeline(source, copy)
}

/** The first bytes of a CSV seed (decompressed), enough for its header row. */
async function readHead(seed: SeedFile): Promise<string> {
  const stream: Readable = seed.format === 'csv.gz' ? createReadStream(seed.file).pipe(createGunzip()) : createReadStream(seed.file, { end: 65535 })
  let head = ''
  for await (const chunk of stream) {
    head += (chunk as Buffer).toString('utf8')
    if (head.includes('\n') || head.length > 65536) break
  }
  stream.destroy()
  return head
}

function seedError(file: string, database: string, error: PostgresError & { line?: number }, doing: string): DevenvError {
  let line = error.line
  // COPY reports "COPY users, line 3, column name: ..." (the header is line 1)
  const copyLine = error.where ? /COPY [^,]+, line (\d+)/.exec(error.where) : null
  if (copyLine) line = Number(copyLine[1])
  const where = line ? `${file}:${line}` : file
  const details = [error.detail && `detail: ${error.detail}`, error.where && `context: ${error.where}`, error.hint && `postgres hint: ${error.hint}`].filter(Boolean) as string[]
  return new DevenvError('DATABASE', `${doing} database ${database} failed at ${where}: ${error.message}`, {
    location: { file, ...(line ? { line } : {}) },
    details,
    hint: doing === 'seeding' ? 'Fix the seed file and run `devenv up` (or `devenv db seed`) again: the database is seeded from the start.' : 'Fix the file and import it again: nothing of it was kept.',
    cause: error,
  })
}
