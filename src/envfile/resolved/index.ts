import { existsSync } from 'node:fs'
import path from 'node:path'
import { readAllowedHostnames } from '../../names/index.js'
import { ProjectPaths, readJson, writeJsonAtomic } from '../../state/index.js'
import { resolveInside } from '../../util/paths.js'
import { discoverEnvfile } from '../discover.js'
import type { LoadRecord } from '../load-record.js'
import type { EnvSpec, RuntimeName } from '../model.js'
import type { BoxResolver } from '../normalise.js'
import { keyOf, readIfPresent } from './key.js'

export interface CachedLoadOptions {
  cwd?: string
  file?: string
  /** As LoadOptions.runtime: `up --runtime`, or the runtime the project was brought up on. */
  runtime?: (root: string) => RuntimeName | undefined
  /** The box store's resolver, imported only for a full load. */
  boxResolver?: () => Promise<BoxResolver>
}

interface CacheEntry {
  key: string
  /** The names in the key, so that checking it needs no parse: files read, variables looked up. */
  files: string[]
  variables: string[]
  /** Project paths the load resolved, checked again on use (a symlink may now lead out). */
  paths: string[]
  spec: EnvSpec
}

/** It holds the spec, and with it whatever secrets `.env` gave the envfile: 0600. */
const CACHE_MODE = 0o600

/**
 * The CLI's way to load the project's envfile: the spec resolved last time, kept in .devenv/, when
 * nothing it was resolved from has changed; else a full load (yaml, the schema, every check),
 * whose modules are imported only then. A face of its own because envfile/index.ts loads them all.
 */
export async function loadEnvfileCached(options: CachedLoadOptions = {}): Promise<EnvSpec> {
  const file = discoverEnvfile(options.cwd ?? process.cwd(), options.file)
  const root = path.dirname(file)
  const runtime = options.runtime?.(root)
  const cacheFile = path.join(new ProjectPaths(root).dir, 'resolved-envfile.json')
  const cached = cachedSpec(cacheFile, file, runtime)
  if (cached) return cached
  const { loadEnvfile, newLoadRecord } = await import('../index.js')
  const record = newLoadRecord()
  const resolveBox = await options.boxResolver?.()
  const spec = loadEnvfile({ file, runtime: () => runtime, record, ...(resolveBox ? { resolveBox } : {}) })
  save(cacheFile, file, record, spec)
  return spec
}

/** The entry's spec if every input reads as it did; any failure to tell is a miss, silently. */
function cachedSpec(cacheFile: string, envfile: string, runtime: RuntimeName | undefined): EnvSpec | undefined {
  try {
    const entry = readJson<CacheEntry>(cacheFile)
    if (!isEntry(entry)) return undefined
    const key = keyOf({
      envfile,
      runtime,
      allowedHostnames: readAllowedHostnames(),
      files: entry.files.map((file) => [file, readIfPresent(file)]),
      variables: entry.variables.map((name) => [name, process.env[name]]),
    })
    if (key !== entry.key) return undefined
    const root = path.dirname(envfile)
    if (!entry.paths.every((resolved) => resolveInside(root, resolved) === resolved)) return undefined
    return entry.spec
  } catch {
    return undefined
  }
}

function save(cacheFile: string, envfile: string, record: LoadRecord, spec: EnvSpec): void {
  // A committed box is read from the box store, which no key covers: such a project is loaded in full.
  if (record.committedBoxes > 0) return
  // Only where devenv already keeps the project's state: a `status` alone leaves no folder behind.
  if (!existsSync(path.dirname(cacheFile))) return
  try {
    const entry: CacheEntry = {
      key: keyOf({
        envfile,
        runtime: record.runtime,
        allowedHostnames: record.allowedHostnames,
        files: [...record.files],
        variables: [...record.variables],
      }),
      files: [...record.files.keys()],
      variables: [...record.variables.keys()],
      paths: [...record.paths],
      spec,
    }
    writeJsonAtomic(cacheFile, entry, CACHE_MODE)
  } catch {
    // A cache that cannot be written (read-only folder, full disk) only costs the next load its time.
  }
}

function isEntry(value: unknown): value is CacheEntry {
  if (typeof value !== 'object' || value === null) return false
  const entry = value as Partial<Record<keyof CacheEntry, unknown>>
  const strings = (list: unknown): boolean => Array.isArray(list) && list.every((item) => typeof item === 'string')
  return (
    typeof entry.key === 'string' &&
    strings(entry.files) &&
    strings(entry.variables) &&
    strings(entry.paths) &&
    typeof entry.spec === 'object' &&
    entry.spec !== null
  )
}
