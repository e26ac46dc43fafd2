import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { execa } from 'execa'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = path.join(REPO, 'bin', 'devenv')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  ms: number
}

export interface CliOptions {
  cwd: string
  env?: Record<string, string | undefined>
  /** A hang fails the test, naming the command, instead of stalling it. */
  timeout?: number
  /** Standard input: 'ignore' (default) or 'pipe'. */
  stdin?: 'ignore' | 'pipe'
}

/**
 * The one way tests run the built CLI: ./bin/devenv as a user would, a real process with its
 * real exit code and output, in the given folder and environment (merged over this process's).
 */
export async function runDevenv(args: string[], options: CliOptions): Promise<CliResult> {
  if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js')))
    throw new Error('dist/ is missing: run `npm run build` first (npm test does it)')
  const timeout = options.timeout ?? 30_000
  const started = performance.now()
  const result = await execa(BIN, args, {
    cwd: options.cwd,
    reject: false,
    timeout,
    // CI=true would turn colour on in oclif's own messages (supports-color reads it): tests see plain text.
    env: { CI: undefined, ...options.env },
    stdin: options.stdin ?? 'ignore',
  })
  if (result.timedOut) throw new Error(`devenv ${args.join(' ')} did not finish within ${timeout} ms\n${result.stderr}`)
  return {
    exitCode: result.exitCode ?? -1,
    stdout: result.stdout,
    stderr: result.stderr,
    ms: performance.now() - started,
  }
}
