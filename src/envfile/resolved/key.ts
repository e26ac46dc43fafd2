import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { BUILTIN_BOXES, boxDefinitionFile } from '../box-catalog.js'
import type { RuntimeName } from '../model.js'

/** Bumped when what a cache entry holds changes shape; a change of EnvSpec comes with a new build anyway. */
const CACHE_FORMAT = 1

/** What decides a resolved envfile, besides devenv's own build and box definitions (read here). */
export interface KeyInputs {
  envfile: string
  runtime: RuntimeName | undefined
  allowedHostnames: readonly string[]
  /** Each file read, with its text (undefined: it was not there). */
  files: ReadonlyArray<readonly [string, string | undefined]>
  /** Each variable looked up, with its value in the shell (undefined: unset). */
  variables: ReadonlyArray<readonly [string, string | undefined]>
}

/** sha256 of every input, so that an entry is used only for exactly the inputs it was resolved from. */
export function keyOf(inputs: KeyInputs): string {
  const boxes = BUILTIN_BOXES.map((kind) => readFileSync(boxDefinitionFile(kind), 'utf8'))
  const material = [
    CACHE_FORMAT,
    buildIdentity(),
    process.version,
    process.platform,
    inputs.envfile,
    inputs.runtime ?? null,
    inputs.allowedHostnames,
    boxes,
    inputs.files.map(([file, text]) => [file, text ?? null]),
    inputs.variables.map(([name, value]) => [name, value ?? null]),
  ]
  return createHash('sha256').update(JSON.stringify(material)).digest('hex')
}

/** The text of `file` now; undefined when there is none (any other failure throws). */
export function readIfPresent(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * The two entry files bin/devenv chooses between, as the filesystem knows them: every build (tsc,
 * then the bundle) and every install writes them anew, which changes their ctime even where npm
 * sets every mtime to the same date. Hashing all of dist/ would cost more than the load it saves.
 */
const ENTRIES = ['../../cli/main.js', '../../bundle/main.js'].map((relative) =>
  fileURLToPath(new URL(relative, import.meta.url)),
)

function buildIdentity(): string[] {
  return ENTRIES.map((file) => {
    const stat = statSync(file, { throwIfNoEntry: false })
    return stat ? `${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}` : '-'
  })
}
