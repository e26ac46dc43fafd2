import { existsSync } from 'node:fs'
import path from 'node:path'
import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { expandPatterns, Hasher, literalPatterns } from './files.js'
import { lockfilePath, writeLockfile, type Checksums } from './lockfile.js'
import type { LockResult } from './verify.js'

/** `devenv lock`: records the checksum of every declared file in devenv.lock, atomically. */
export function lockIntegrity(spec: EnvSpec): LockResult {
  const patternSets = [spec.integrity.files, ...Object.values(spec.services).map((service) => service.integrity)]
  const patterns = [...new Set(patternSets.flat())]
  const missing = literalPatterns(patterns).filter((file) => !existsSync(path.join(spec.root, file)))
  if (missing.length > 0) {
    throw new DevenvError('INTEGRITY', `${missing.length} declared file(s) do not exist; nothing was locked`, {
      details: missing.map((file) => `${file}: no such file in ${spec.root}`),
      hint: 'Create the file or remove it from the integrity lists of devenv.yaml.',
    })
  }
  const hasher = new Hasher(spec.root)
  const checksums: Checksums = new Map()
  const unmatched: string[] = []
  for (const pattern of patterns) {
    const files = expandPatterns(spec.root, [pattern])
    if (files.length === 0) unmatched.push(pattern)
    for (const file of files) checksums.set(file, hasher.hash(file))
  }
  const lockfile = lockfilePath(spec.file)
  writeLockfile(lockfile, checksums)
  const files = [...checksums]
    .map(([file, sha256]) => ({ file, sha256 }))
    .sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  return { lockfile, files, unmatched }
}
