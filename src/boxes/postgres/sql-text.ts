/**
 * Just enough of PostgreSQL's lexer to find where statements start and end: quotes,
 * E'' strings, quoted identifiers, dollar-quoted bodies, -- and nested block comments.
 * Used only to point at the failing statement of a seed file after PostgreSQL reported an
 * error without a position; the file itself always runs whole.
 */
export interface Statement {
  text: string
  /** Offset (UTF-16 index) of the statement's first character in the file. */
  offset: number
}

export function splitStatements(sql: string): Statement[] {
  const statements: Statement[] = []
  let start = 0
  let index = 0
  const push = (end: number) => {
    const text = sql.slice(start, end)
    // The line to report is the statement's own, not that of the comments before it.
    const leading = /^(?:\s|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/.exec(text)![0].length
    if (leading < text.length) statements.push({ text, offset: start + leading })
  }
  while (index < sql.length) {
    const char = sql[index]!
    const next = sql[index + 1]
    if (char === '-' && next === '-') {
      const end = sql.indexOf('\n', index)
      index = end === -1 ? sql.length : end + 1
    } else if (char === '/' && next === '*') {
      let depth = 1
      index += 2
      while (index < sql.length && depth > 0) {
        if (sql[index] === '/' && sql[index + 1] === '*') {
          depth++
          index += 2
        } else if (sql[index] === '*' && sql[index + 1] === '/') {
          depth--
          index += 2
        } else index++
      }
    } else if (char === "'" || char === '"') {
      const escapes = char === "'" && /[eE]/.test(sql[index - 1] ?? '') && !/[\w$]/.test(sql[index - 2] ?? '')
      index++
      while (index < sql.length) {
        if (escapes && sql[index] === '\\') index += 2
        else if (sql[index] === char && sql[index + 1] === char) index += 2
        else if (sql[index] === char) break
        else index++
      }
      index++
    } else if (char === '$' && !/[\w$]/.test(sql[index - 1] ?? '')) {
      const tag = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(index, index + 64))
      if (tag) {
        const end = sql.indexOf(tag[0], index + tag[0].length)
        index = end === -1 ? sql.length : end + tag[0].length
      } else index++
    } else if (char === ';') {
      push(index + 1)
      start = ++index
    } else index++
  }
  push(sql.length)
  return statements
}

/** 1-based line of a UTF-16 offset. */
export function lineAtOffset(text: string, offset: number): number {
  let line = 1
  for (let index = 0; index < offset && index < text.length; index++) if (text.charCodeAt(index) === 10) line++
  return line
}

/** PostgreSQL's error positions count characters (code points) from 1; JavaScript counts UTF-16 units. */
export function offsetOfPosition(text: string, position: number): number {
  let offset = 0
  for (let counted = 1; counted < position && offset < text.length; counted++) {
    const code = text.codePointAt(offset)!
    offset += code > 0xffff ? 2 : 1
  }
  return offset
}
