import type { RuntimeName } from './model.js'

/**
 * What one load of an envfile consulted besides devenv itself, as it found it: enough for a later
 * load to tell, without parsing anything, whether it would come out the same (envfile/resolved/).
 */
export interface LoadRecord {
  /** Every file read, with the text read: the envfile, `.env` (undefined: there was none), each env_file. */
  files: Map<string, string | undefined>
  /** Each variable a `${...}` looked up, with its value in the shell (undefined: unset); `.env` is in `files`. */
  variables: Map<string, string | undefined>
  /** Every project path resolved, each checked then against symlinks that lead out of the project. */
  paths: Set<string>
  allowedHostnames: readonly string[]
  runtime?: RuntimeName
  /** How many times the box store was asked for a committed box. */
  committedBoxes: number
}

export function newLoadRecord(): LoadRecord {
  return { files: new Map(), variables: new Map(), paths: new Set(), allowedHostnames: [], committedBoxes: 0 }
}

/** `variables` as the interpolation reads them, each name looked up noted with `shell`'s value. */
export function recordingLookups(
  variables: Record<string, string | undefined>,
  shell: Readonly<Record<string, string | undefined>>,
  record: LoadRecord,
): Record<string, string | undefined> {
  return new Proxy(variables, {
    get(target, name, receiver) {
      if (typeof name === 'string') record.variables.set(name, shell[name])
      return Reflect.get(target, name, receiver) as unknown
    },
    has(target, name) {
      if (typeof name === 'string') record.variables.set(name, shell[name])
      return Reflect.has(target, name)
    },
  })
}
