import { isIP } from 'node:net'
import { DevenvError } from '../errors.js'

/**
 * The managed block of one project in a hosts file, as pure text transformations.
 *
 * Texts here are "byte strings" (latin1-decoded buffers, one char per byte) so that whatever
 * encoding the rest of the file uses survives a round trip byte for byte.
 */

export interface HostsEntry {
  address: string
  hostnames: string[]
}

/** Who a block belongs to: the project's name and folder, both shown in its markers. */
export interface BlockOwner {
  project: string
  root: string
}

/** Windows ignores hostnames past the ninth on one line. */
const HOSTNAMES_PER_LINE = 8
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$/i
const PROJECT = /^\S+$/

export function toBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1')
}

export function fromBytes(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8')
}

function checkOwner(owner: BlockOwner): void {
  if (!PROJECT.test(owner.project))
    throw new DevenvError('HOSTS', `project name "${owner.project}" cannot mark a hosts block`)
  if (/[\r\n]/.test(owner.root))
    throw new DevenvError(
      'HOSTS',
      `project folder ${JSON.stringify(owner.root)} has a line break in its name; it cannot mark a hosts block`,
    )
}

function checkEntry(entry: HostsEntry): void {
  if (isIP(entry.address) === 0)
    throw new DevenvError('HOSTS', `"${entry.address}" is not an IP address; it cannot go into the hosts file`)
  for (const hostname of entry.hostnames) {
    if (!HOSTNAME.test(hostname))
      throw new DevenvError('HOSTS', `"${hostname}" is not a valid hostname; it cannot go into the hosts file`)
  }
}

export function startMarker(owner: BlockOwner): string {
  return `# >>> devenv ${owner.project} (${owner.root}) >>>`
}

export function endMarker(owner: BlockOwner): string {
  return `# <<< devenv ${owner.project} <<<`
}

/** The block as people read it (UTF-8), lines joined by `eol`, without a final line break. */
export function renderBlock(owner: BlockOwner, entries: readonly HostsEntry[], eol = '\n'): string {
  checkOwner(owner)
  const lines = [
    startMarker(owner),
    '# Written by devenv for this project; `devenv hosts remove` or `devenv down` takes it out.',
  ]
  for (const entry of entries) {
    checkEntry(entry)
    for (let index = 0; index < entry.hostnames.length; index += HOSTNAMES_PER_LINE) {
      lines.push(`${entry.address}\t${entry.hostnames.slice(index, index + HOSTNAMES_PER_LINE).join(' ')}`)
    }
  }
  lines.push(endMarker(owner))
  return lines.join(eol)
}

/** The line ending the file already uses (its first one); `fallback` for a file with a single line. */
export function detectEol(text: string, fallback: string): string {
  const newline = text.indexOf('\n')
  if (newline < 0) return fallback
  return newline > 0 && text[newline - 1] === '\r' ? '\r\n' : '\n'
}

interface Span {
  /** Offset of the start marker's first character. */
  start: number
  /** Offset just after the end marker's text, before its line break. */
  contentEnd: number
  /** Offset after the end marker's line break (== contentEnd when the file ends there). */
  end: number
}

interface Line {
  start: number
  contentEnd: number
  end: number
  content: string
}

function* lines(text: string, from = 0): Generator<Line> {
  let start = from
  while (start < text.length) {
    const newline = text.indexOf('\n', start)
    const end = newline < 0 ? text.length : newline + 1
    let contentEnd = newline < 0 ? text.length : newline
    if (contentEnd > start && text[contentEnd - 1] === '\r') contentEnd--
    yield { start, contentEnd, end, content: text.slice(start, contentEnd) }
    start = end
  }
}

function findBlock(text: string, owner: BlockOwner, file: string): Span | undefined {
  const start = toBytes(startMarker(owner))
  const end = toBytes(endMarker(owner))
  for (const line of lines(text)) {
    if (line.content.trimEnd() !== start) continue
    for (const after of lines(text, line.end)) {
      if (after.content.trimEnd() === end) return { start: line.start, contentEnd: after.contentEnd, end: after.end }
    }
    throw new DevenvError(
      'HOSTS',
      `${file} has the start of ${owner.project}'s devenv block but not its end ("${endMarker(owner)}")`,
      {
        hint: 'Someone edited the block by hand; fix or delete its lines in that file, then run the command again.',
      },
    )
  }
  return undefined
}

/** `text` with the owner's block put in place (replaced where it was, else appended). */
export function withBlock(
  text: string,
  owner: BlockOwner,
  entries: readonly HostsEntry[],
  file: string,
  defaultEol: string,
): string {
  const eol = detectEol(text, defaultEol)
  const block = toBytes(renderBlock(owner, entries, eol))
  const found = findBlock(text, owner, file)
  if (found) return text.slice(0, found.start) + block + text.slice(found.contentEnd)
  if (text === '') return block + eol
  if (text.endsWith('\n')) return text + block + eol
  // The file had no final line break: the block ends the file without one too, and owns the
  // line break put before it, so that removing it gives back the file exactly.
  return text + eol + block
}

/** `text` without the owner's block (every copy of it); unchanged when there is none. */
export function withoutBlock(text: string, owner: BlockOwner, file: string): string {
  let result = text
  for (let found = findBlock(result, owner, file); found; found = findBlock(result, owner, file)) {
    if (found.end === found.contentEnd && found.end === result.length) {
      let start = found.start
      if (result.endsWith('\r\n', start)) start -= 2
      else if (result.endsWith('\n', start)) start -= 1
      result = result.slice(0, start)
    } else {
      result = result.slice(0, found.start) + result.slice(found.end)
    }
  }
  return result
}

/** The owner's block as found in `text` (UTF-8, lines joined by \n) and its entries, if present. */
export function extractBlock(
  text: string,
  owner: BlockOwner,
  file: string,
): { text: string; entries: HostsEntry[] } | undefined {
  const found = findBlock(text, owner, file)
  if (!found) return undefined
  const blockLines = [...lines(text.slice(found.start, found.contentEnd))].map((line) => fromBytes(line.content))
  const entries: HostsEntry[] = []
  for (const line of blockLines) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/).filter(Boolean)
    const [address, ...hostnames] = fields
    if (!address || hostnames.length === 0) continue
    const same = entries.find((entry) => entry.address === address)
    if (same) same.hostnames.push(...hostnames)
    else entries.push({ address, hostnames })
  }
  return { text: blockLines.join('\n'), entries }
}
