// What the benches that run the built CLI on a temp project share: the project folder with its own
// DEVENV_HOME and hosts file, a `devenv` runner there, clean-up on exit, and the statistics they print.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, realpathSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const BIN = new URL('../../bin/devenv', import.meta.url).pathname

/** A temp project (`root`, empty) whose stack is taken down and folder removed when the bench exits. */
export function benchProject(prefix) {
  const base = realpathSync(mkdtempSync(path.join(os.tmpdir(), prefix)))
  const root = path.join(base, 'project')
  const home = path.join(base, 'home')
  const env = { ...process.env, DEVENV_HOME: home, DEVENV_HOSTS_FILE: path.join(base, 'hosts'), NO_COLOR: '1' }
  const devenv = (...args) =>
    execFileSync(BIN, args, { cwd: root, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const state = { up: false }
  const cleanup = () => {
    if (state.up) {
      try {
        devenv('down', '--no-hosts')
      } catch (error) {
        console.error(`devenv down failed: ${error.stderr ?? error.message}`)
      }
      state.up = false
    }
    rmSync(base, { recursive: true, force: true })
  }
  process.on('exit', cleanup)
  process.on('SIGINT', () => process.exit(130))
  return { base, root, home, env, devenv, markUp: () => (state.up = true) }
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const quantile = (list, q) =>
  [...list].sort((a, b) => a - b)[Math.min(list.length - 1, Math.floor(q * list.length))]
export const median = (list) => quantile(list, 0.5)
