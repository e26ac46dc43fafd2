import { readFileSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { writeFileAtomic } from '../state/index.js'

/** Expected checksums: relative path (POSIX) → sha256 hex. */
export type Checksums = Map<string, string>

export const LOCKFILE_NAME = 'devenv.lock'

const HEADER = [
  '# devenv.lock: SHA-256 of the files devenv.yaml asks to verify (integrity:).',
  '# `devenv up` refuses to start while one differs. After an intended change, run `devenv lock` and commit this file.',
]
const ENTRY = /^([0-9a-f]{64}) {2}(.+)$/

export function lockfilePath(envfile: string): string {
  return path.join(path.dirname(envfile), LOCKFILE_NAME)
}

/** Sorted, one `<sha256>  <path>` line per file, so a change reads well in a diff. */
export function renderChecksums(checksums: Checksums): string {
  const files = [...checksums.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  return [...HEADER, ...files.map((file) => `${checksums.get(file)}  ${file}`)].join('\n') + '\n'
}

/** Parses devenv.lock (or a manifest in the same format); `source` names it in errors. */
export function parseChecksums(text: string, source: string): Checksums {
  const checksums: Checksums = new Map()
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '' || line.startsWith('#')) return
    const match = ENTRY.exec(line)
    const file = match?.[2]
    const normalised = file === undefined ? undefined : path.posix.normalize(file)
    if (
      !match ||
      normalised === undefined ||
      normalised !== file ||
      path.posix.isAbsolute(file) ||
      file.startsWith('../') ||
      file === '..'
    ) {
      throw new DevenvError(
        'INTEGRITY',
        `${source}:${index + 1}: expected "<sha256>  <relative path>", found ${JSON.stringify(line.slice(0, 120))}`,
        {
          location: { file: source, line: index + 1 },
          hint: 'Regenerate it with `devenv lock`.',
        },
      )
    }
    checksums.set(file, match[1]!)
  })
  return checksums
}

/** The recorded checksums, or undefined when the project has no devenv.lock yet. */
export function readLockfile(file: string): Checksums | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new DevenvError('INTEGRITY', `cannot read ${file}: ${(error as Error).message}`)
  }
  return parseChecksums(text, file)
}

export function writeLockfile(file: string, checksums: Checksums): void {
  writeFileAtomic(file, renderChecksums(checksums))
}
