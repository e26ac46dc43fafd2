import type { FieldPath } from './source.js'
import { resolveVariable, VARIABLE_PATTERN } from './variables.js'

/** A ${VAR} written where no quoting can keep its value from being read as code. */
export class UnquotableVariable extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message)
  }
}

const WATCH_KEYWORDS = new Set(['restart', 'sync', 'none'])

/** The envfile's fields the shell runs (`/bin/sh -c`): a service's command, build, health command and watch command. */
export function isShellCommandField(field: FieldPath, plainValue: string): boolean {
  if (field[0] !== 'services' || field.length < 3) return false
  const rest = field.slice(2).map(String).join('.')
  if (rest === 'command' || rest === 'build' || rest === 'build.command' || rest === 'health.command') return true
  if (field[2] !== 'mounts' || typeof field[3] !== 'number') return false
  const mountField = field.slice(4).join('.')
  // `watch: ${MODE}` that reads restart, sync or none is a keyword, not a command
  return (mountField === 'watch' && !WATCH_KEYWORDS.has(plainValue)) || mountField === 'watch.command'
}

type Quoting = 'plain' | 'single' | 'double'
/** What a `)` or a backtick closes: the command substitution opened inside a quoting. */
type Frame = { closer: ')' | '`'; resume: Quoting }

/**
 * Interpolates a shell command line so that every variable's value reaches the command as the
 * very text it is: quoted for the place it stands (bare, inside '…', inside "…", inside $( )).
 * The command's own text (what the author wrote, and $$) stays code.
 */
export function interpolateShellCommand(text: string, variables: Readonly<Record<string, string | undefined>>): string {
  let out = ''
  let quoting: Quoting = 'plain'
  const frames: Frame[] = []
  let heredoc = false
  let index = 0
  while (index < text.length) {
    const char = text[index]!
    if (char === '$') {
      VARIABLE_PATTERN.lastIndex = index
      const match = VARIABLE_PATTERN.exec(text)
      if (match && match.index === index) {
        index += match[0].length
        if (match[0] === '$$') {
          out += '$'
          continue
        }
        const name = match[1]!
        const value = resolveVariable(name, match[2], match[3], variables)
        if (value === undefined) {
          out += match[0]
          continue
        }
        if (frames.some((frame) => frame.closer === '`')) {
          throw new UnquotableVariable(
            `\${${name}} is inside backticks, where its value cannot be quoted safely`,
            'Write $( … ) instead of ` … ` around it.',
          )
        }
        if (heredoc)
          throw new UnquotableVariable(
            `\${${name}} follows a here-document (<<), where its value cannot be quoted safely`,
            'Pass the value in env: and read it as "$NAME" in the command.',
          )
        out += quoteFor(quoting, value)
        continue
      }
      if (quoting !== 'single' && text[index + 1] === '(') {
        frames.push({ closer: ')', resume: quoting })
        quoting = 'plain'
        out += '$('
        index += 2
        continue
      }
    }
    out += char
    index++
    if (quoting === 'single') {
      if (char === "'") quoting = 'plain'
      continue
    }
    if (char === '\\') {
      if (index < text.length) out += text[index++]
      continue
    }
    if (quoting === 'double') {
      if (char === '"') quoting = 'plain'
      else if (char === '`')
        openOrClose(
          frames,
          '`',
          () => quoting,
          (next) => (quoting = next),
        )
      continue
    }
    if (char === "'") quoting = 'single'
    else if (char === '"') quoting = 'double'
    else if (char === '(') frames.push({ closer: ')', resume: 'plain' })
    else if (char === '`' || char === ')')
      openOrClose(
        frames,
        char,
        () => quoting,
        (next) => (quoting = next),
      )
    else if (char === '<' && text[index] === '<') heredoc = true
  }
  return out
}

function openOrClose(frames: Frame[], char: ')' | '`', current: () => Quoting, set: (next: Quoting) => void): void {
  const top = frames.at(-1)
  if (top && top.closer === char) {
    frames.pop()
    set(top.resume)
  } else if (char === '`') {
    frames.push({ closer: '`', resume: current() })
    set('plain')
  }
}

function quoteFor(quoting: Quoting, value: string): string {
  switch (quoting) {
    case 'single':
      return value.replace(/'/g, `'\\''`)
    case 'double':
      return value.replace(/[\\$`"]/g, '\\$&')
    default:
      return `'${value.replace(/'/g, `'\\''`)}'`
  }
}
