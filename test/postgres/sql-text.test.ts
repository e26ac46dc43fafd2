import { describe, expect, test } from 'vitest'
import { csvHeader, csvTable, listSeedFiles } from '../../src/boxes/postgres/seed-files.js'
import { lineAtOffset, offsetOfPosition, splitStatements } from '../../src/boxes/postgres/sql-text.js'

describe('splitStatements', () => {
  test('keeps dollar-quoted bodies, strings, quoted identifiers and comments whole', () => {
    const sql = [
      '-- a comment; with a semicolon',
      'CREATE FUNCTION f() RETURNS int AS $body$ BEGIN RETURN 1; END; $body$ LANGUAGE plpgsql;',
      "INSERT INTO \"odd;name\" VALUES ('it''s; fine', E'esc\\'; still');",
      '/* block /* nested; */ still; */ SELECT $$;$$;',
      'SELECT 1',
    ].join('\n')
    const statements = splitStatements(sql)
    expect(statements).toHaveLength(4)
    expect(statements.map((statement) => lineAtOffset(sql, statement.offset))).toEqual([2, 3, 4, 5])
    expect(statements[0]!.text).toContain('END; $body$ LANGUAGE plpgsql;')
  })
})

test('PostgreSQL positions count code points', () => {
  const text = 'SELECT \u{1F600};\nBAD'
  // position 11 is the B of BAD (1-based, the emoji counts once)
  expect(text.slice(offsetOfPosition(text, 11))).toBe('BAD')
})

test('csv header and table names', () => {
  expect(csvHeader('id,"full, name","say ""hi"""\r\n1,2,3')).toEqual(['id', 'full, name', 'say "hi"'])
  expect(csvHeader('\ufeffa,b\n')).toEqual(['a', 'b'])
  expect(csvTable('/x/02-people.csv')).toEqual({ table: 'people' })
  expect(csvTable('/x/shop.orders.csv.gz')).toEqual({ schema: 'shop', table: 'orders' })
})

test('a missing or unknown seed is refused by name', () => {
  expect(() => listSeedFiles(['/nonexistent/seed.sql'], 'db')).toThrow(
    /seed \/nonexistent\/seed.sql of database db does not exist/,
  )
  expect(() => listSeedFiles([import.meta.filename], 'db')).toThrow(/is not a .sql, .sql.gz, .csv or .csv.gz file/)
})
