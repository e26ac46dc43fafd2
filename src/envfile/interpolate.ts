import { visit } from 'yaml'
import { DevenvError } from '../errors.js'
import type { EnvfileSource } from './source.js'

/** Filled in by the runtime when a service starts, never from the shell at load time. */
export function isRuntimeVariable(name: string): boolean {
  return name === 'HOST' || name === 'PORT' || name.startsWith('DEVENV_')
}

export class UndefinedVariable extends Error {
  constructor(
    readonly variable: string,
    readonly reason: string,
  ) {
    super(reason)
  }
}

const PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g

/**
 * Compose-style interpolation: ${VAR}, ${VAR:-default} (unset or empty), ${VAR-default}
 * (unset), ${VAR:?message} and ${VAR?message} (required), and $$ for a literal $.
 */
export function interpolate(text: string, variables: Readonly<Record<string, string | undefined>>): string {
  return text.replace(PATTERN, (whole, name: string | undefined, operator: string | undefined, operand: string | undefined) => {
    if (whole === '$$') return '$'
    if (name === undefined) return whole
    if (isRuntimeVariable(name)) return whole
    const value = variables[name]
    const unsetOrEmpty = value === undefined || value === ''
    switch (operator) {
      case ':-':
        return unsetOrEmpty ? (operand ?? '') : value
      case '-':
        return value === undefined ? (operand ?? '') : value
      case ':?':
        if (unsetOrEmpty) throw new UndefinedVariable(name, required(name, operand))
        return value
      case '?':
        if (value === undefined) throw new UndefinedVariable(name, required(name, operand))
        return value
      default:
        if (value === undefined) throw new UndefinedVariable(name, `variable ${name} is not set`)
        return value
    }
  })
}

/** The author's message names what the value is for; ours adds which variable it is. */
function required(name: string, message: string | undefined): string {
  return message ? `variable ${name} is required: ${message}` : `variable ${name} is required`
}

/** Interpolates every string value (not keys) of the document in place. */
export function interpolateDocument(source: EnvfileSource, variables: Readonly<Record<string, string | undefined>>): void {
  visit(source.document, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return
      try {
        node.value = interpolate(node.value, variables)
      } catch (error) {
        if (!(error instanceof UndefinedVariable)) throw error
        const location = source.locateNode(node)
        throw new DevenvError('ENVFILE_VARIABLE', error.reason, {
          location,
          hint: `Set ${error.variable} in the shell or in .env beside the envfile, or give a default: \${${error.variable}:-value}`,
        })
      }
    },
  })
}


