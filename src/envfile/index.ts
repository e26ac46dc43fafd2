import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { DevenvError } from '../errors.js'
import { readAllowedHostnames } from '../names/index.js'
import { discoverEnvfile } from './discover.js'
import { checkHostnames } from './hostnames.js'
import { interpolateDocument } from './interpolate.js'
import { recordingLookups, type LoadRecord } from './load-record.js'
import type { EnvSpec, RuntimeName } from './model.js'
import { normalise, type BoxResolver } from './normalise.js'
import type { RawEnvfile } from './raw.js'
import { checkRules } from './rules.js'
import { checkProviderSupport } from './provider-support.js'
import { expandReplicas } from './replicas.js'
import { validateSchema } from './schema.js'
import { EnvfileSource } from './source.js'

export type * from './model.js'
export { DEFAULT_HEALTH_TIMING } from './model.js'
export { discoverEnvfile } from './discover.js'
export { SCHEMA_PATH, SCHEMA_URL } from './schema.js'
export { BUILTIN_BOXES, describeBox, isBuiltinBox, type BoxDescription } from './box-catalog.js'
export type { BoxResolver } from './normalise.js'
export { newLoadRecord, type LoadRecord } from './load-record.js'

export interface LoadOptions {
  /** Folder to search from (default: the current folder). */
  cwd?: string
  /** -f/--file */
  file?: string
  /** Variables for ${VAR} (default: process.env); .env beside the envfile fills the gaps. */
  variables?: Record<string, string | undefined>
  resolveBox?: BoxResolver
  /** Hostnames this machine allows besides the special-use ones (default: `devenv hosts allow`'s list). */
  allowedHostnames?: readonly string[]
  /** The runtime to use instead of the envfile's `runtime:` (`up --runtime`, or the one the project was brought up on). */
  runtime?: (root: string) => RuntimeName | undefined
  /**
   * Refuse what the chosen runtime cannot run (default: true). `export` turns it off: a Compose file
   * or Kubernetes objects can hold image services the local runtime does not run.
   */
  checkProviderSupport?: boolean
  /** Filled with what this load read (files, variables, paths, choices), for a cache of its result. */
  record?: LoadRecord
}

/** Discover, parse, interpolate, validate, apply defaults, check: the one way to read an envfile. */
export function loadEnvfile(options: LoadOptions = {}): EnvSpec {
  const file = discoverEnvfile(options.cwd ?? process.cwd(), options.file)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    throw new DevenvError('ENVFILE_NOT_FOUND', `cannot read ${file}: ${(error as Error).message}`)
  }
  options.record?.files.set(file, text)
  return parseEnvfile(file, text, options)
}

export function parseEnvfile(file: string, text: string, options: Omit<LoadOptions, 'cwd' | 'file'> = {}): EnvSpec {
  const root = path.dirname(file)
  const { record } = options
  const source = EnvfileSource.parse(file, text)
  const shell = options.variables ?? process.env
  const variables = { ...readDotEnv(root, record), ...shell }
  interpolateDocument(source, record ? recordingLookups(variables, shell, record) : variables)
  const raw = source.toJS()
  if (raw === null || raw === undefined || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new DevenvError('ENVFILE_SCHEMA', 'the envfile must be a mapping with a services key', {
      location: { file, line: 1, column: 1 },
    })
  }
  validateSchema(source, raw)
  const { resolveBox } = options
  const spec = normalise(raw as RawEnvfile, {
    source,
    root,
    ...(resolveBox ? { resolveBox: record ? countedResolver(resolveBox, record) : resolveBox } : {}),
    ...(record ? { record } : {}),
  })
  checkRules(spec, source)
  const allowedHostnames = options.allowedHostnames ?? readAllowedHostnames()
  if (record) record.allowedHostnames = allowedHostnames
  checkHostnames(spec, source, allowedHostnames)
  const runtime = options.runtime?.(root)
  if (runtime) spec.runtime = runtime
  if (record && runtime) record.runtime = runtime
  if (options.checkProviderSupport !== false) checkProviderSupport(spec, source)
  return expandReplicas(spec, raw as RawEnvfile, source)
}

function countedResolver(resolveBox: BoxResolver, record: LoadRecord): BoxResolver {
  return (ref) => {
    record.committedBoxes++
    return resolveBox(ref)
  }
}

function readDotEnv(root: string, record: LoadRecord | undefined): Record<string, string> {
  const file = path.join(root, '.env')
  const text = existsSync(file) ? readFileSync(file, 'utf8') : undefined
  record?.files.set(file, text)
  return text === undefined ? {} : (parseEnv(text) as Record<string, string>)
}
export { EnvfileSource, type FieldPath } from './source.js'
