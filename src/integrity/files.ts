import { createHash } from 'node:crypto'
import { readFileSync, realpathSync } from 'node:fs'
import path from 'node:path'
import { minimatch } from 'minimatch'
import { globSync, isDynamicPattern } from 'tinyglobby'
import { DevenvError } from '../errors.js'
import { isInside } from '../util/paths.js'

/** Files matched by `patterns` (relative to root), as sorted POSIX paths; links leading out are refused. */
export function expandPatterns(root: string, patterns: readonly string[]): string[] {
  if (patterns.length === 0) return []
  const files = globSync([...patterns], { cwd: root, dot: true, onlyFiles: true, followSymbolicLinks: true })
  const realRoot = realpathSync(root)
  for (const file of files) {
    let real: string
    try {
      real = realpathSync(path.join(root, file))
    } catch {
      continue
    }
    if (!isInside(realRoot, real)) {
      throw new DevenvError(
        'INTEGRITY',
        `${file} leads outside the project folder (to ${real}); devenv refuses to verify it`,
        {
          hint: 'Keep verified files inside the folder of devenv.yaml, or narrow the integrity glob so it does not match the link.',
        },
      )
    }
    if (/[\r\n]/.test(file))
      throw new DevenvError(
        'INTEGRITY',
        `${JSON.stringify(file)} has a line break in its name; it cannot be recorded in devenv.lock`,
      )
  }
  return [...new Set(files)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
}

/** Does `file` (a POSIX path relative to root) fall under one of the patterns? A folder pattern covers what is inside. */
export function matchesAny(file: string, patterns: readonly string[]): boolean {
  return patterns.some(
    (pattern) =>
      minimatch(file, pattern, { dot: true }) || minimatch(file, `${pattern.replace(/\/+$/, '')}/**`, { dot: true }),
  )
}

/** Patterns naming one file exactly: when that file is missing, it is missing (a glob may simply match nothing). */
export function literalPatterns(patterns: readonly string[]): string[] {
  return patterns.filter((pattern) => !isDynamicPattern(pattern))
}

export function sha256File(root: string, file: string): string {
  return createHash('sha256')
    .update(readFileSync(path.join(root, file)))
    .digest('hex')
}

/** Computes checksums, each file once. */
export class Hasher {
  private readonly cache = new Map<string, string>()
  constructor(private readonly root: string) {}
  hash(file: string): string {
    let sum = this.cache.get(file)
    if (sum === undefined) {
      sum = sha256File(this.root, file)
      this.cache.set(file, sum)
    }
    return sum
  }
}
