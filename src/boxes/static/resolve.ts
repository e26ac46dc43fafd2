import { realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { isInside } from '../../util/paths.js'

export type Resolution =
  | { kind: 'file'; file: string }
  | { kind: 'redirect'; location: string }
  | { kind: 'missing' }
  | { kind: 'forbidden' }
  | { kind: 'bad-request' }

/**
 * Maps a request target to a file below `realRoot` (the root, symlinks resolved). Refuses
 * anything that could lead outside: `..` segments (encoded or not), NUL, backslashes, and
 * symlinks whose target lies outside the root. Dotfiles are hidden, `.well-known` aside.
 */
export async function resolveRequest(realRoot: string, target: string): Promise<Resolution> {
  const rawPath = target.split(/[?#]/, 1)[0] ?? ''
  let decoded: string
  try {
    decoded = decodeURIComponent(rawPath)
  } catch {
    return { kind: 'bad-request' }
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return { kind: 'bad-request' }
  const segments = decoded.split('/').filter((segment) => segment !== '' && segment !== '.')
  if (segments.includes('..')) return { kind: 'forbidden' }
  if (segments.some((segment) => segment.startsWith('.') && segment !== '.well-known')) return { kind: 'missing' }

  const found = await realFileInside(realRoot, path.join(realRoot, ...segments))
  if (found.kind !== 'found') return found
  if (!found.isFolder) return { kind: 'file', file: found.real }
  if (!rawPath.endsWith('/')) {
    // Built from the checked segments, not echoed, so `//host` cannot become an open redirect.
    const folder = segments.map((segment) => encodeURIComponent(segment)).join('/')
    return { kind: 'redirect', location: `/${folder}/${target.slice(rawPath.length)}` }
  }
  const index = await realFileInside(realRoot, path.join(found.real, 'index.html'))
  if (index.kind !== 'found') return index
  return index.isFolder ? { kind: 'missing' } : { kind: 'file', file: index.real }
}

type Found = { kind: 'found'; real: string; isFolder: boolean } | { kind: 'missing' } | { kind: 'forbidden' }

async function realFileInside(realRoot: string, candidate: string): Promise<Found> {
  let real: string
  try {
    real = await realpath(candidate)
  } catch {
    return { kind: 'missing' }
  }
  if (!isInside(realRoot, real)) return { kind: 'forbidden' }
  try {
    const stats = await stat(real)
    if (stats.isDirectory()) return { kind: 'found', real, isFolder: true }
    return stats.isFile() ? { kind: 'found', real, isFolder: false } : { kind: 'missing' }
  } catch {
    return { kind: 'missing' }
  }
}
