import { Composer, LineCounter, Parser, YAMLParseError, isMap, isPair, isScalar, isSeq, visit } from 'yaml'
import type { CST, Document, Node } from 'yaml'
import { DevenvError, type Location } from '../errors.js'
import { MAX_NESTING, tooDeepAt } from './depth.js'

export type FieldPath = ReadonlyArray<string | number>

/** Bounds the work a malicious or mistaken file can cause ("billion laughs"). */
const MAX_ALIAS_COUNT = 100
const MAX_ENVFILE_BYTES = 1024 * 1024

/**
 * A parsed envfile that still knows where each value came from, so that every later
 * error can name file:line:col.
 */
export class EnvfileSource {
  readonly file: string
  readonly document: Document.Parsed
  private readonly lines: LineCounter

  private constructor(file: string, document: Document.Parsed, lines: LineCounter) {
    this.file = file
    this.document = document
    this.lines = lines
  }

  static parse(file: string, text: string): EnvfileSource {
    if (Buffer.byteLength(text) > MAX_ENVFILE_BYTES) {
      throw new DevenvError('ENVFILE_SYNTAX', `the envfile is larger than ${MAX_ENVFILE_BYTES / 1024} KiB`, {
        location: { file },
      })
    }
    const lines = new LineCounter()
    // One parse for both the depth check and the document (parsing twice was ~14 ms of each start).
    const tokens = Array.from(new Parser(lines.addNewLine).parse(text))
    const tooDeep = tooDeepAt(tokens)
    if (tooDeep !== undefined) {
      const before = text.slice(0, tooDeep)
      const line = before.split('\n').length
      const column = tooDeep - before.lastIndexOf('\n')
      throw new DevenvError(
        'ENVFILE_SYNTAX',
        `the envfile is nested too deeply: more than ${MAX_NESTING} levels of mappings and lists`,
        {
          location: { file, line, column },
          hint: 'An envfile needs a handful of levels; look for runaway brackets ([ or {) or indentation from that line on.',
        },
      )
    }
    const document = composeDocument(tokens, text.length)
    const source = new EnvfileSource(file, document, lines)
    const problem = document.errors[0]
    if (problem) {
      const [line, column] = source.lineCol(problem.pos[0])
      throw new DevenvError('ENVFILE_SYNTAX', `YAML syntax error: ${firstLine(problem.message)}`, {
        location: { file, line, column },
        hint: 'Check indentation and quoting around that line.',
      })
    }
    return source
  }

  /** The plain JavaScript value, refusing documents that expand aliases without bound. */
  toJS(): unknown {
    try {
      return this.document.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      if (/alias/i.test(message)) {
        throw new DevenvError('ENVFILE_SYNTAX', 'too many YAML aliases: the document expands without bound', {
          location: this.firstAlias() ?? { file: this.file },
          hint: `Use fewer than ${MAX_ALIAS_COUNT} alias references (*name), or write the values out.`,
        })
      }
      throw new DevenvError('ENVFILE_SYNTAX', `YAML error: ${firstLine(message)}`, { location: { file: this.file } })
    }
  }

  /** Where the value at `path` is written (or its key, with `key: true`). Falls back to the nearest parent. */
  locate(path: FieldPath, options: { key?: boolean } = {}): Location {
    const location: Location = { file: this.file, path: formatPath(path) }
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = this.offsetOf(path.slice(0, depth), options.key === true && depth === path.length)
      if (offset !== undefined) {
        const [line, column] = this.lineCol(offset)
        return { ...location, line, column }
      }
    }
    return location
  }

  /** Where a node of this document is written, with its field path when it has one. */
  locateNode(node: Node): Location {
    const offset = node.range?.[0]
    const fieldPath = this.pathOf(node)
    const location: Location = {
      file: this.file,
      ...(fieldPath && fieldPath.length > 0 ? { path: formatPath(fieldPath) } : {}),
    }
    if (offset === undefined) return location
    const [line, column] = this.lineCol(offset)
    return { ...location, line, column }
  }

  /** The field path of a node, found by walking the document (aliases are not followed). */
  pathOf(target: Node): FieldPath | undefined {
    const search = (node: unknown, at: Array<string | number>): FieldPath | undefined => {
      if (node === target) return at
      if (isMap(node)) {
        for (const pair of node.items) {
          const key = isScalar(pair.key) ? String(pair.key.value) : '?'
          if (pair.key === target) return [...at, key]
          const found = search(pair.value, [...at, key])
          if (found) return found
        }
      } else if (isSeq(node)) {
        for (const [index, item] of node.items.entries()) {
          const found = search(item, [...at, index])
          if (found) return found
        }
      }
      return undefined
    }
    return search(this.document.contents, [])
  }

  /** Where the first alias (*name) is written: the best place to point at for an alias bomb. */
  private firstAlias(): Location | undefined {
    let first: Node | undefined
    visit(this.document, {
      Alias(_, node) {
        first = node
        return visit.BREAK
      },
    })
    return first ? this.locateNode(first) : undefined
  }

  private offsetOf(path: FieldPath, wantKey: boolean): number | undefined {
    let node: unknown = this.document.contents
    let keyNode: unknown
    for (const segment of path) {
      keyNode = undefined
      if (isMap(node)) {
        const pair = node.items.find(
          (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment),
        )
        if (!pair) return undefined
        keyNode = pair.key
        node = pair.value
      } else if (isSeq(node) && typeof segment === 'number') {
        node = node.items[segment]
      } else {
        return undefined
      }
    }
    const target = (wantKey && keyNode ? keyNode : node) as Node | undefined
    return target?.range?.[0]
  }

  private lineCol(offset: number): [number, number] {
    const { line, col } = this.lines.linePos(offset)
    return [line, col]
  }
}

/** services.www1.ports[0] */
export function formatPath(path: FieldPath): string {
  let formatted = ''
  for (const segment of path) {
    if (typeof segment === 'number') formatted += `[${segment}]`
    else formatted += formatted ? `.${segment}` : segment
  }
  return formatted
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')
}

/** What yaml's parseDocument does, from tokens already parsed: the first document, a second one an error. */
function composeDocument(tokens: readonly CST.Token[], length: number): Document.Parsed {
  const composer = new Composer({ merge: true, prettyErrors: false, uniqueKeys: true })
  let document: Document.Parsed | undefined
  for (const next of composer.compose(tokens, true, length)) {
    if (!document) document = next
    else {
      const message = 'Source contains multiple documents; please use YAML.parseAllDocuments()'
      document.errors.push(new YAMLParseError([next.range[0], next.range[1]], 'MULTIPLE_DOCS', message))
      break
    }
  }
  return document!
}
