import { realpathSync } from 'node:fs'
import path from 'node:path'

/** True when `candidate` is `root` or lies below it (lexically). */
export function isInside(root: string, candidate: string): boolean {
  const relative = path.relative(root, candidate)
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative))
}

/**
 * Resolves `given` against `root` and returns it only if it stays inside root, following
 * symlinks of the part that exists, so a link cannot lead out either.
 */
export function resolveInside(root: string, given: string): string | undefined {
  const resolved = path.resolve(root, given)
  if (!isInside(root, resolved)) return undefined
  const realRoot = safeRealpath(root)
  let existing = resolved
  while (!exists(existing) && existing !== path.dirname(existing)) existing = path.dirname(existing)
  const realExisting = safeRealpath(existing)
  if (!isInside(realRoot, realExisting)) return undefined
  return resolved
}

function exists(file: string): boolean {
  try {
    realpathSync(file)
    return true
  } catch {
    return false
  }
}

function safeRealpath(file: string): string {
  try {
    return realpathSync(file)
  } catch {
    return file
  }
}
