import path from 'node:path'
import picomatch from 'picomatch'
import { DevenvError } from '../errors.js'

/** Folders never worth reacting to, at any depth. */
const IGNORED_FOLDERS = new Set(['.git', 'node_modules'])

/**
 * Files editors write beside the one being edited. Vim rewrites its swap file while you type,
 * so without these a `restart` mount would restart on keystrokes, not on saves.
 */
export const EDITOR_DROPPINGS: readonly string[] = ['*.swp', '*.swo', '*.swx', '*~', '.#*', '#*#', '4913', '.DS_Store']

export type IgnoreTest = (absolutePath: string) => boolean

/**
 * Builds the test chokidar calls for every path below `source`. Patterns are globs relative to
 * the source, gitignore-like: one without a slash matches a name at any depth, one with a slash
 * (or a leading `/`) is anchored at the source; a matched folder hides everything below it.
 */
export function ignoreTest(source: string, patterns: readonly string[]): IgnoreTest {
  const matchers = [...EDITOR_DROPPINGS, ...patterns].map((pattern) => compile(pattern, source))
  const matches = (relative: string): boolean => matchers.some((matcher) => matcher(relative))
  return (absolutePath) => {
    const relative = path.relative(source, absolutePath)
    if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return false
    const segments = relative.split(path.sep)
    for (let depth = 1; depth <= segments.length; depth++) {
      if (IGNORED_FOLDERS.has(segments[depth - 1]!)) return true
      if (matches(segments.slice(0, depth).join('/'))) return true
    }
    return false
  }
}

function compile(pattern: string, source: string): (relative: string) => boolean {
  let glob = pattern.trim().replace(/\\/g, '/')
  const anchored = glob.startsWith('/')
  glob = glob.replace(/^\.?\/+/, '').replace(/\/+$/, '')
  if (glob === '' || glob.split('/').includes('..')) {
    throw new DevenvError(
      'ENVFILE_INVALID',
      `ignore pattern "${pattern}" of the mount ${source} is not a path below the mount`,
      {
        hint: 'Write globs relative to the mount source, e.g. `dist/**` or `*.log`.',
      },
    )
  }
  try {
    return picomatch(glob, { dot: true, basename: !anchored && !glob.includes('/') })
  } catch (error) {
    throw new DevenvError('ENVFILE_INVALID', `ignore pattern "${pattern}" of the mount ${source} is not a valid glob`, {
      cause: error,
    })
  }
}
