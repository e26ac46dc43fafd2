import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

/** devenv's own package folder (the one holding dist/), whether run from a checkout or an npm install. */
export function packageRoot(): string {
  return fileURLToPath(new URL('../../..', import.meta.url))
}

interface Manifest {
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

function manifestOf(folder: string): Manifest {
  return JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as Manifest
}

/** Where Node would find `name` for code in `from`: the nearest node_modules above it that has it. */
function resolvePackage(name: string, from: string): string | undefined {
  for (let folder = from; ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, 'node_modules', name)
    if (existsSync(path.join(candidate, 'package.json'))) return candidate
    if (path.dirname(folder) === folder) return undefined
  }
}

/**
 * The folders of every package devenv needs at run time (its dependencies, theirs, and so on;
 * never its devDependencies), as Node resolves them from where they are installed.
 */
export function runtimePackages(root = packageRoot()): string[] {
  const found = new Set<string>()
  const visit = (folder: string): void => {
    const manifest = manifestOf(folder)
    for (const name of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies })) {
      const resolved = resolvePackage(name, folder)
      if (!resolved || found.has(resolved)) continue
      found.add(resolved)
      visit(resolved)
    }
  }
  visit(root)
  return [...found].sort()
}
