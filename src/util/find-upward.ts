import { existsSync } from 'node:fs'
import path from 'node:path'

/** The first of `names` in `from` or the nearest parent folder that has one, as git finds .git. */
export function findUpward(from: string, names: readonly string[]): string | undefined {
  let folder = path.resolve(from)
  for (;;) {
    for (const name of names) {
      const candidate = path.join(folder, name)
      if (existsSync(candidate)) return candidate
    }
    const parent = path.dirname(folder)
    if (parent === folder) return undefined
    folder = parent
  }
}
