import { appendFileSync, existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import type { EnvSpec } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { ProjectPaths } from '../state/index.js'
import type { Hasher } from './files.js'
import { lockfilePath, readLockfile, type Checksums } from './lockfile.js'
import { fetchManifest } from './manifest.js'

export type FileStatus = 'ok' | 'changed' | 'missing' | 'unlocked'

export interface FileCheck {
  /** Relative to the project folder, POSIX separators. */
  file: string
  status: FileStatus
  /** sha256 recorded in devenv.lock (or the manifest); null when unlocked. */
  expected: string | null
  /** sha256 of the file now; null when missing. */
  found: string | null
}

export interface ServiceIntegrity {
  service: string
  ok: boolean
  /** Its own files and the project-wide ones. */
  files: FileCheck[]
}

export interface IntegrityReport {
  ok: boolean
  /** Where the expected checksums come from: devenv.lock or the manifest URL. */
  source: string
  /** Files of the project-wide `integrity.files`. */
  project: FileCheck[]
  services: ServiceIntegrity[]
  /** Every declared file once. */
  files: FileCheck[]
}

export interface LockResult {
  lockfile: string
  files: Array<{ file: string; sha256: string }>
  /** Globs that matched no file (probably a typo). */
  unmatched: string[]
}

type FileMatching = typeof import('./files.js')

function checkPatterns(
  { expandPatterns, matchesAny, literalPatterns }: FileMatching,
  root: string,
  patterns: readonly string[],
  expected: Checksums,
  hasher: Hasher,
): FileCheck[] {
  const present = expandPatterns(root, patterns)
  const files = new Set(present)
  for (const file of expected.keys()) if (!files.has(file) && matchesAny(file, patterns)) files.add(file)
  for (const file of literalPatterns(patterns)) if (!existsSync(path.join(root, file))) files.add(file)
  const onDisk = new Set(present)
  return [...files]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((file) => {
      const recorded = expected.get(file) ?? null
      const found = onDisk.has(file) ? hasher.hash(file) : null
      const status: FileStatus =
        found === null ? 'missing' : recorded === null ? 'unlocked' : recorded === found ? 'ok' : 'changed'
      return { file, status, expected: recorded, found }
    })
}

async function expectedChecksums(spec: EnvSpec): Promise<{ source: string; checksums: Checksums }> {
  if (spec.integrity.manifest)
    return { source: spec.integrity.manifest, checksums: await fetchManifest(spec.integrity.manifest) }
  const source = lockfilePath(spec.file)
  return { source, checksums: readLockfile(source) ?? new Map() }
}

function declaresFiles(spec: EnvSpec): boolean {
  return spec.integrity.files.length > 0 || Object.values(spec.services).some((service) => service.integrity.length > 0)
}

/** Checks every declared file against devenv.lock (or the manifest), starting nothing. */
export async function verifyIntegrity(spec: EnvSpec): Promise<IntegrityReport> {
  if (!declaresFiles(spec)) {
    // Nothing to check: no checksums to fetch, and no glob matcher to load (~10 ms of every `up`).
    const source = spec.integrity.manifest ?? lockfilePath(spec.file)
    const services = Object.keys(spec.services).map((service) => ({ service, ok: true, files: [] }))
    return { ok: true, source, project: [], services, files: [] }
  }
  const { source, checksums } = await expectedChecksums(spec)
  const matching = await import('./files.js')
  const hasher = new matching.Hasher(spec.root)
  const project = checkPatterns(matching, spec.root, spec.integrity.files, checksums, hasher)
  const services = Object.values(spec.services).map((service) => {
    const files = checkPatterns(matching, spec.root, [...service.integrity, ...spec.integrity.files], checksums, hasher)
    return { service: service.name, ok: files.every((check) => check.status === 'ok'), files }
  })
  const all = new Map<string, FileCheck>()
  for (const check of [...project, ...services.flatMap((service) => service.files)]) all.set(check.file, check)
  const files = [...all.values()].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))
  return { ok: files.every((check) => check.status === 'ok'), source, project, services, files }
}

export function describeCheck(check: FileCheck): string {
  switch (check.status) {
    case 'ok':
      return `${check.file}: ok`
    case 'changed':
      return `${check.file}: changed, expected sha256 ${check.expected}, found ${check.found}`
    case 'missing':
      return `${check.file}: missing, expected sha256 ${check.expected ?? '(not locked either)'}, found no file`
    case 'unlocked':
      return `${check.file}: not in devenv.lock, expected nothing, found sha256 ${check.found}`
  }
}

/**
 * The gate of `up`: throws INTEGRITY naming every bad file of the given services (default: all)
 * with expected and found checksums, after appending the failure to .devenv/logs/integrity.log.
 */
export async function assertIntegrity(spec: EnvSpec, services?: readonly string[]): Promise<IntegrityReport> {
  const report = await verifyIntegrity(spec)
  const selected = services ? report.services.filter((service) => services.includes(service.service)) : report.services
  const blocked = selected.filter((service) => !service.ok).map((service) => service.service)
  const owners = new Map<string, string[]>()
  for (const service of selected) {
    for (const check of service.files)
      if (check.status !== 'ok') owners.set(check.file, [...(owners.get(check.file) ?? []), service.service])
  }
  if (!services)
    for (const check of report.project) if (check.status !== 'ok' && !owners.has(check.file)) owners.set(check.file, [])
  if (owners.size === 0) return report
  const byFile = new Map(report.files.map((check) => [check.file, check]))
  const details = [...owners].map(
    ([file, owners]) => `${describeCheck(byFile.get(file)!)}${owners.length ? ` (${owners.join(', ')})` : ''}`,
  )
  const message =
    `integrity check failed: ${owners.size} file(s) differ from ${path.basename(report.source) === 'devenv.lock' ? 'devenv.lock' : report.source}` +
    (blocked.length ? `; not starting ${blocked.join(', ')}` : '')
  logFailure(spec, message, details)
  throw new DevenvError('INTEGRITY', message, {
    details,
    hint: 'If the change is intended, run `devenv lock` and commit devenv.lock; `devenv verify` lists every file.',
  })
}

function logFailure(spec: EnvSpec, message: string, details: string[]): void {
  const logs = new ProjectPaths(spec.root).logs
  try {
    mkdirSync(logs, { recursive: true })
    appendFileSync(
      path.join(logs, 'integrity.log'),
      [`${new Date().toISOString()} ${message}`, ...details.map((line) => `  ${line}`)].join('\n') + '\n',
    )
  } catch {
    // The error itself still reaches the user; a log that cannot be written must not hide it.
  }
}
