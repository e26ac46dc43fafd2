import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { runDevenv } from '../support/cli.js'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const BIN = path.join(REPO, 'bin', 'devenv')
export const FIXTURES = path.join(REPO, 'test', 'fixtures')

export interface CliResult {
  exitCode: number
  stdout: string
  stderr: string
  ms: number
}

export interface RunOptions {
  cwd?: string
  env?: Record<string, string | undefined>
  /** A hang (an alias bomb expanding without bound) fails the test instead of stalling it. */
  timeout?: number
}

const sandboxes: string[] = []
const home = mkdtempSync(path.join(tmpdir(), 'devenv-cli-home-'))
sandboxes.push(home)

/** Runs ./bin/devenv as a user would: a real process, its real exit code and output. */
export async function devenv(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runDevenv(args, {
    cwd: options.cwd ?? REPO,
    timeout: options.timeout ?? 20_000,
    stdin: 'pipe',
    // DEVENV_HOME keeps the machine-wide state of the person running the tests untouched.
    env: { DEVENV_HOME: home, NO_COLOR: undefined, FORCE_COLOR: undefined, DEVENV_DEBUG: undefined, ...options.env },
  })
}

/** A fresh empty folder under the system temp folder; removed by cleanSandboxes(). */
export function sandbox(prefix = 'devenv-cli-'): string {
  const folder = mkdtempSync(path.join(tmpdir(), prefix))
  sandboxes.push(folder)
  return folder
}

export function cleanSandboxes(): void {
  for (const folder of sandboxes.splice(0)) rmSync(folder, { recursive: true, force: true })
}

/** A stack trace line as Node prints it, "    at fn (file:line:col)"; devenv's own "  at file:line:col" is indented by two. */
export const STACK_LINE = /^ {4}at .+:\d+:\d+\)?$/m

export const ANSI = /\u001b\[[0-9;]*m/
