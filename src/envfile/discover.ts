import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { findUpward } from '../util/find-upward.js'

export const ENVFILE_NAMES = ['devenv.yaml', 'devenv.yml'] as const

/** The envfile named with -f, or the first devenv.yaml in `from` or a parent folder, as git finds .git. */
export function discoverEnvfile(from: string, explicit?: string): string {
  if (explicit) {
    const file = path.resolve(from, explicit)
    if (!existsSync(file))
      throw new DevenvError('ENVFILE_NOT_FOUND', `envfile ${explicit} does not exist`, { hint: `Looked for ${file}.` })
    if (statSync(file).isDirectory()) {
      for (const name of ENVFILE_NAMES) if (existsSync(path.join(file, name))) return path.join(file, name)
      throw new DevenvError('ENVFILE_NOT_FOUND', `no devenv.yaml in ${file}`)
    }
    return file
  }
  const found = findUpward(from, ENVFILE_NAMES)
  if (found) return found
  throw new DevenvError('ENVFILE_NOT_FOUND', `no devenv.yaml in ${path.resolve(from)} or any parent folder`, {
    hint: 'Create one with `devenv init` (or `devenv init --template webapp`), or point at one with -f.',
  })
}
