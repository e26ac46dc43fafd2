import { createHash } from 'node:crypto'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../../errors.js'

export type SeedFormat = 'sql' | 'sql.gz' | 'csv' | 'csv.gz'

export interface SeedFile {
  file: string
  format: SeedFormat
}

const FORMATS: ReadonlyArray<[suffix: string, format: SeedFormat]> = [
  ['.sql.gz', 'sql.gz'],
  ['.csv.gz', 'csv.gz'],
  ['.sql', 'sql'],
  ['.csv', 'csv'],
]

export function seedFormat(file: string): SeedFormat | undefined {
  const lower = file.toLowerCase()
  return FORMATS.find(([suffix]) => lower.endsWith(suffix))?.[1]
}

/**
 * The seed list as files, in the order they run: entries as listed, a folder's files in name
 * order (other files in a folder, like a README, are skipped; a listed file must be a seed).
 */
export function listSeedFiles(entries: string[], database: string): SeedFile[] {
  const files: SeedFile[] = []
  for (const entry of entries) {
    let stat
    try {
      stat = statSync(entry)
    } catch {
      throw new DevenvError('DATABASE', `seed ${entry} of database ${database} does not exist`, { location: { file: entry } })
    }
    if (stat.isDirectory()) {
      const names = readdirSync(entry)
        .filter((name) => !name.startsWith('.'))
        .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      for (const name of names) {
        const file = path.join(entry, name)
        const format = seedFormat(name)
        if (format && statSync(file).isFile()) files.push({ file, format })
      }
      continue
    }
    const format = seedFormat(entry)
    if (!format) {
      throw new DevenvError('DATABASE', `seed ${entry} of database ${database} is not a .sql, .sql.gz, .csv or .csv.gz file, nor a folder`, { location: { file: entry } })
    }
    files.push({ file: entry, format })
  }
  return files
}

/** What a seeded template is keyed by: the database, and every seed file's name and content in order. */
export function seedHash(database: string, files: SeedFile[]): string {
  const hash = createHash('sha256').update(`devenv-seed-v1\0${database}\0`)
  for (const { file } of files) hash.update(`${path.basename(file)}\0`).update(readFileSync(file)).update('\0')
  return hash.digest('hex')
}

/** The table a CSV seed fills: its file name without extension and without an ordering prefix (01-, 02_). */
export function csvTable(file: string): { schema?: string; table: string } {
  const base = path.basename(file).replace(/\.csv(\.gz)?$/i, '').replace(/^\d+[-_]/, '')
  const dot = base.indexOf('.')
  return dot > 0 ? { schema: base.slice(0, dot), table: base.slice(dot + 1) } : { table: base }
}

/** The header record of an RFC 4180 file: the column names, quotes undone. */
export function csvHeader(text: string): string[] {
  const columns: string[] = []
  let field = ''
  let quoted = false
  let index = text.charCodeAt(0) === 0xfeff ? 1 : 0
  for (; index < text.length; index++) {
    const char = text[index]!
    if (quoted) {
      if (char === '"' && text[index + 1] === '"') {
        field += '"'
        index++
      } else if (char === '"') quoted = false
      else field += char
    } else if (char === '"') quoted = true
    else if (char === ',') {
      columns.push(field)
      field = ''
    } else if (char === '\n' || char === '\r') break
    else field += char
  }
  columns.push(field)
  return columns.map((column) => column.trim())
}
