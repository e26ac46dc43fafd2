import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import type { Ajv as AjvClass, ErrorObject, ValidateFunction } from 'ajv'
import { DevenvError } from '../errors.js'
import { didYouMean } from '../util/suggest.js'
import { formatPath, type EnvfileSource, type FieldPath } from './source.js'

/** The JSON Schema shipped in the package, also used by editors through yaml-language-server. */
export const SCHEMA_PATH = fileURLToPath(new URL('../../schema/devenv.schema.json', import.meta.url))
export const SCHEMA_URL = 'https://unpkg.com/devenv/schema/devenv.schema.json'

/** The validator compiled at build time (scripts/compile-schema.mjs); absent when running from source. */
const precompiled = await import(new URL('./schema-validator.js', import.meta.url).href).then(
  (module: { default: ValidateFunction }) => module.default,
  () => undefined,
)

let compiled: ValidateFunction | undefined = precompiled

function validator(): ValidateFunction {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8')) as object
    // Only when running from source: the built CLI uses the validator precompiled at build.
    const { Ajv } = createRequire(import.meta.url)('ajv') as { Ajv: typeof AjvClass }
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, coerceTypes: true })
    compiled = ajv.compile(schema)
  }
  return compiled
}

/** Validates the raw document against the JSON Schema; throws one error naming each problem. */
export function validateSchema(source: EnvfileSource, value: unknown): void {
  const validate = validator()
  if (validate(value)) return
  const problems = explain(validate.errors ?? [])
  const first = problems[0]!
  const location = source.locate(first.path, { key: first.atKey })
  throw new DevenvError('ENVFILE_SCHEMA', `${location.path || 'the envfile'}: ${first.message}`, {
    location,
    details: problems.slice(1).map((problem) => {
      const where = source.locate(problem.path, { key: problem.atKey })
      return `${where.line ?? '?'}:${where.column ?? '?'} ${formatPath(problem.path) || '(top)'}: ${problem.message}`
    }),
    hint: 'See docs/envfile.md for every field, or let your editor complete it from the schema.',
  })
}

interface Problem {
  path: FieldPath
  message: string
  /** Point at the key rather than its value (unknown keys). */
  atKey: boolean
}

/** Turns ajv's errors into one message per place, preferring the most specific. */
function explain(errors: ErrorObject[]): Problem[] {
  const byPlace = new Map<string, Problem>()
  // Where a value matches none of several forms, say so once rather than echo each branch.
  const alternatives = new Set(
    errors.filter((error) => error.keyword === 'anyOf' || error.keyword === 'oneOf').map((error) => error.instancePath),
  )
  for (const error of errors) {
    if (
      alternatives.has(error.instancePath) &&
      error.keyword !== 'anyOf' &&
      error.keyword !== 'oneOf' &&
      error.keyword !== 'additionalProperties'
    )
      continue
    const problem = describe(error)
    if (!problem) continue
    const key = formatPath(problem.path)
    const existing = byPlace.get(key)
    if (!existing || rank(problem) > rank(existing)) byPlace.set(key, problem)
  }
  // A oneOf failure on a parent is noise when a child has a precise complaint.
  const places = [...byPlace.keys()]
  return (
    [...byPlace.entries()]
      .filter(
        ([key, problem]) =>
          !(
            problem.message.startsWith('must be') &&
            places.some((other) => other !== key && other.startsWith(key) && key !== '')
          ),
      )
      .map(([, problem]) => problem)
      // The most telling problem first: "unknown key servics (did you mean services?)" explains "missing services".
      .sort((a, b) => rank(b) - rank(a))
  )
}

function rank(problem: Problem): number {
  if (problem.message.startsWith('unknown key')) return 4
  if (problem.message.startsWith('must be one of the accepted') || problem.message.startsWith('must be valid:'))
    return 3
  if (problem.message.startsWith('must be one of') || problem.message.startsWith('is not')) return 2
  return 1
}

function describe(error: ErrorObject): Problem | undefined {
  const path = pointerToPath(error.instancePath)
  const params = error.params as Record<string, unknown>
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const allowed = Object.keys((error.parentSchema as { properties?: object } | undefined)?.properties ?? {})
      return { path: [...path, key], atKey: true, message: `unknown key "${key}"${didYouMean(key, allowed)}` }
    }
    case 'required':
      return { path, atKey: false, message: `missing required key "${String(params.missingProperty)}"` }
    case 'enum': {
      const allowed = (params.allowedValues as unknown[]).map(String)
      return {
        path,
        atKey: false,
        message: `must be one of ${allowed.join(', ')}, not ${JSON.stringify(error.data)}${didYouMean(String(error.data), allowed)}`,
      }
    }
    case 'type':
      return {
        path,
        atKey: false,
        message: `must be ${String(params.type).replace(',', ' or ')}, not ${typeName(error.data)}`,
      }
    case 'minimum':
    case 'maximum':
      return {
        path,
        atKey: false,
        message: `${JSON.stringify(error.data)} is out of range: must be ${error.keyword === 'minimum' ? '>=' : '<='} ${String(params.limit)}${isPortPath(path) ? ' (ports are 1-65535)' : ''}`,
      }
    case 'pattern':
      return {
        path,
        atKey: false,
        message: `${JSON.stringify(error.data)} is not ${patternName(path, String(params.pattern))}`,
      }
    case 'minItems':
      return { path, atKey: false, message: `must list at least ${String(params.limit)} item(s)` }
    case 'minLength':
      return { path, atKey: false, message: 'must not be empty' }
    case 'const':
    case 'anyOf':
    case 'oneOf':
    case 'if':
      return { path, atKey: false, message: `must be ${shapeOf(error)}` }
    default:
      return { path, atKey: false, message: error.message ?? 'is not valid' }
  }
}

function shapeOf(error: ErrorObject): string {
  const description = (error.parentSchema as { description?: string } | undefined)?.description
  return description ? `valid: ${description}` : 'one of the accepted forms (see docs/envfile.md)'
}

function isPortPath(path: FieldPath): boolean {
  return path.some(
    (segment) => segment === 'ports' || segment === 'port' || segment === 'publish' || segment === 'host',
  )
}

function patternName(path: FieldPath, pattern: string): string {
  const field = [...path].reverse().find((segment) => typeof segment === 'string')
  if (field === 'name' && path.length === 1)
    return 'a valid project name (a DNS label: lowercase letters, digits and -)'
  if (
    field === 'hostnames' ||
    field === 'domain' ||
    (typeof path[path.length - 2] === 'string' && path[path.length - 2] === 'hostnames')
  )
    return 'a valid hostname'
  if (field === 'box') return 'a box name (NAME or NAME:TAG)'
  if (field === 'accounts') return 'an email address'
  if (field === 'name' && path.includes('users')) return 'a user name (letters, digits, _ . -; not starting with a dot)'
  if ((field === 'name' || field === 'user') && path.includes('databases'))
    return 'a PostgreSQL identifier (letters, digits, _; not starting with a digit)'
  if (field === 'pasv_ports') return 'a port range such as 30000-30009'
  return `in the expected form (${pattern})`
}

function typeName(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'a mapping'
  return `${typeof value} ${JSON.stringify(value)}`
}

function pointerToPath(pointer: string): FieldPath {
  if (!pointer) return []
  return pointer
    .slice(1)
    .split('/')
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((segment) => (/^\d+$/.test(segment) ? Number(segment) : segment))
}
