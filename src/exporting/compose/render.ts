import { readFileSync } from 'node:fs'
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv'
import { Document } from 'yaml'
import { DevenvError } from '../../errors.js'
import type { ComposeExport, ComposeFile } from './document.js'

const SCHEMA = new URL('../../../schema/vendor/compose-spec.json', import.meta.url)

let validator: ValidateFunction | undefined

/** Checks a Compose file against the vendored compose-spec schema; the problems, or none. */
export function composeSchemaErrors(file: unknown): string[] {
  if (!validator) {
    const schema = JSON.parse(readFileSync(SCHEMA, 'utf8')) as Record<string, unknown>
    // Its $schema names draft-07 by https, which Ajv knows by http: the draft is Ajv's default anyway.
    delete schema.$schema
    validator = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(schema)
  }
  if (validator(file)) return []
  return (validator.errors ?? []).map(describe)
}

function describe(error: ErrorObject): string {
  const extra = error.keyword === 'additionalProperties' ? ` (${String(error.params.additionalProperty)})` : ''
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}${extra}`
}

/**
 * The file as text both readers accept: compose-spec and docker-compose 1.29. `$` is doubled
 * (Compose interpolates every value), YAML 1.1 quoting keeps `no` a string for PyYAML.
 */
export function renderCompose(exported: ComposeExport, header: string[]): string {
  const file = escapeDollars(exported.file) as ComposeFile
  const problems = composeSchemaErrors(file)
  if (problems.length > 0) {
    throw new DevenvError('EXPORT', 'the Compose file devenv made does not validate against the compose-spec schema', {
      details: problems,
      hint: 'This is a bug in devenv: please report it with the envfile.',
    })
  }
  const document = new Document(file, { version: '1.1' })
  document.commentBefore = header.map((line) => ` ${line}`).join('\n')
  return document.toString({ lineWidth: 0 }).replace(/^%YAML 1\.1\n---\n/, '')
}

export function escapeDollars(value: unknown): unknown {
  if (typeof value === 'string') return value.replaceAll('$', () => '$$')
  if (Array.isArray(value)) return value.map(escapeDollars)
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, escapeDollars(item)]))
  return value
}
