import { visit } from 'yaml'
import { DevenvError } from '../errors.js'
import { interpolateShellCommand, isShellCommandField, UnquotableVariable } from './shell-interpolate.js'
import type { EnvfileSource } from './source.js'
import { resolveVariable, UndefinedVariable, VARIABLE_PATTERN } from './variables.js'

export { isRuntimeVariable, UndefinedVariable } from './variables.js'

/** ${VAR} and its compose-style forms (variables.ts), and $$ for a literal $. */
export function interpolate(text: string, variables: Readonly<Record<string, string | undefined>>): string {
  return text.replace(
    VARIABLE_PATTERN,
    (whole, name: string | undefined, operator: string | undefined, operand: string | undefined) => {
      if (whole === '$$') return '$'
      if (name === undefined) return whole
      return resolveVariable(name, operator, operand, variables) ?? whole
    },
  )
}

/**
 * Interpolates every string value (not keys) of the document in place. Into a value the shell
 * runs (a command), a variable's value goes in quoted: it is data, never code.
 */
export function interpolateDocument(
  source: EnvfileSource,
  variables: Readonly<Record<string, string | undefined>>,
): void {
  visit(source.document, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return
      const text = node.value
      try {
        const field = source.pathOf(node)
        node.value =
          field && isShellCommandField(field, interpolate(text, variables))
            ? interpolateShellCommand(text, variables)
            : interpolate(text, variables)
      } catch (error) {
        if (error instanceof UnquotableVariable) {
          throw new DevenvError('ENVFILE_VARIABLE', error.message, {
            location: source.locateNode(node),
            hint: error.hint,
          })
        }
        if (!(error instanceof UndefinedVariable)) throw error
        throw new DevenvError('ENVFILE_VARIABLE', error.reason, {
          location: source.locateNode(node),
          hint: `Set ${error.variable} in the shell or in .env beside the envfile, or give a default: \${${error.variable}:-value}`,
        })
      }
    },
  })
}
