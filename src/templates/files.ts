import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import picomatch from 'picomatch'

/**
 * What running a template in place leaves in it and is never the template's own: its state
 * (`devenv up -f templates/webapp` writes another project's database, passwords and logs into
 * .devenv), installed packages, version control, and a lock of files init is about to change.
 */
const NEVER_COPIED = new Set(['.devenv', 'node_modules', '.git', 'devenv.lock'])

/**
 * The template's own files, relative to its folder: regular files only (no sockets, devices or
 * links), nothing NEVER_COPIED at any depth, nothing its .gitignore ignores.
 */
export function templateFiles(folder: string): string[] {
  const ignored = gitignoreMatcher(folder)
  const walk = (relative: string): string[] =>
    readdirSync(path.join(folder, relative), { withFileTypes: true }).flatMap((entry) => {
      const child = relative ? `${relative}/${entry.name}` : entry.name
      if (NEVER_COPIED.has(entry.name) || ignored(child, entry.isDirectory())) return []
      if (entry.isDirectory()) return walk(child)
      return entry.isFile() ? [child] : []
    })
  return walk('').sort()
}

/** The simple .gitignore forms (names, globs, a leading or trailing /; no negation) of the template itself. */
function gitignoreMatcher(folder: string): (relative: string, isDirectory: boolean) => boolean {
  const file = path.join(folder, '.gitignore')
  if (!existsSync(file)) return () => false
  const rules = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#') && !line.startsWith('!'))
    .map((line) => {
      const directoryOnly = line.endsWith('/')
      const pattern = line.replace(/^\/|\/$/g, '')
      const anchored = line.startsWith('/') || pattern.includes('/')
      return { directoryOnly, match: picomatch(anchored ? pattern : `**/${pattern}`, { dot: true }) }
    })
  return (relative, isDirectory) => rules.some((rule) => (!rule.directoryOnly || isDirectory) && rule.match(relative))
}
