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

/** One `${...}` or `$$`, with the variable's name, operator and operand as groups. */
export const VARIABLE_PATTERN = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}/g

/**
 * The value one `${...}` stands for (compose-style: ${VAR}, ${VAR:-default} for unset or empty,
 * ${VAR-default} for unset, ${VAR:?message} and ${VAR?message} for required); undefined when it
 * is left as written, for the runtime to fill in.
 */
export function resolveVariable(
  name: string,
  operator: string | undefined,
  operand: string | undefined,
  variables: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (isRuntimeVariable(name)) return undefined
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
}

/** The author's message names what the value is for; ours adds which variable it is. */
function required(name: string, message: string | undefined): string {
  return message ? `variable ${name} is required: ${message}` : `variable ${name} is required`
}
