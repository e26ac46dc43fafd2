import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { isDynamicPattern } from 'tinyglobby'
import type { EnvSpec } from '../envfile/index.js'
import { EnvfileSource, type FieldPath } from '../envfile/index.js'
import { DevenvError, type Location } from '../errors.js'

interface MissingPath {
  what: string
  file: string
  at: FieldPath
}

/**
 * Files the envfile names that must be there before anything starts: seed files, mount sources
 * and integrity files named without a wildcard (a glob may match nothing). A missing one fails
 * with the envfile's file:line of the field, so `validate` catches what `up` would trip on later.
 */
export function checkNamedPaths(spec: EnvSpec): void {
  const missing = missingPaths(spec)
  const first = missing[0]
  if (!first) return
  const source = EnvfileSource.parse(spec.file, readFileSync(spec.file, 'utf8'))
  const where = (entry: MissingPath): Location => source.locate(entry.at)
  const describe = (entry: MissingPath): string =>
    `${entry.what} ${path.relative(spec.root, entry.file) || entry.file} does not exist`
  throw new DevenvError('ENVFILE_INVALID', describe(first), {
    location: where(first),
    details: missing.slice(1).map((entry) => `${describe(entry)} (${formatWhere(where(entry))})`),
    hint: 'Create the file, or correct its path (relative to the folder of the envfile).',
  })
}

function missingPaths(spec: EnvSpec): MissingPath[] {
  const missing: MissingPath[] = []
  for (const service of Object.values(spec.services)) {
    const at = (...rest: Array<string | number>): FieldPath => ['services', service.name, ...rest]
    service.postgres?.databases.forEach((database, index) => {
      database.seed.forEach((seed, seedIndex) => {
        if (!existsSync(seed))
          missing.push({
            what: 'seed file',
            file: seed,
            at: database.seed.length > 1 ? at('databases', index, 'seed', seedIndex) : at('databases', index, 'seed'),
          })
      })
    })
    service.mounts.forEach((mount, index) => {
      if (!existsSync(mount.source))
        missing.push({ what: 'mount source', file: mount.source, at: at('mounts', index, 'source') })
    })
    service.integrity.forEach((pattern, index) => {
      if (!isDynamicPattern(pattern) && !existsSync(path.join(spec.root, pattern)))
        missing.push({ what: 'integrity file', file: path.join(spec.root, pattern), at: at('integrity', index) })
    })
  }
  spec.integrity.files.forEach((pattern, index) => {
    if (!isDynamicPattern(pattern) && !existsSync(path.join(spec.root, pattern)))
      missing.push({ what: 'integrity file', file: path.join(spec.root, pattern), at: ['integrity', 'files', index] })
  })
  return missing
}

function formatWhere(location: Location): string {
  return `${location.file}${location.line !== undefined ? `:${location.line}` : ''}`
}
