import { spawn } from 'node:child_process'
import { mkdirSync, openSync, readFileSync, rmSync } from 'node:fs'
import type { EnvSpec } from '../../envfile/index.js'
import { ProjectPaths, writeJsonAtomic } from '../../state/index.js'
import { fileURLToPath } from 'node:url'
import { withoutExtraCaCerts } from '../../util/node-start-env.js'

/** The project's watcher process on the docker provider: its pid file and the spec it watches. */
function watcherFiles(root: string): { pid: string; spec: string; log: string } {
  const paths = new ProjectPaths(root)
  return {
    pid: `${paths.dir}/docker-watcher.pid`,
    spec: `${paths.dir}/docker-spec.json`,
    log: `${paths.logs}/docker-watcher.log`,
  }
}

/** Does the project have anything to watch: a mount with `watch: restart` or a command, or a Dockerfile build? */
export function needsWatcher(spec: EnvSpec): boolean {
  return Object.values(spec.services).some(
    (service) =>
      service.imageBuild !== undefined ||
      service.mounts.some((mount) => mount.watch.kind === 'restart' || mount.watch.kind === 'command'),
  )
}

function runningWatcher(root: string): number | undefined {
  try {
    const pid = Number(readFileSync(watcherFiles(root).pid, 'utf8'))
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    return command.includes('watcher-main') && command.includes(root) ? pid : undefined
  } catch {
    return undefined
  }
}

/** Ends the project's watcher, if one runs. */
export function stopWatcher(root: string): void {
  const pid = runningWatcher(root)
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      // gone meanwhile
    }
  }
  rmSync(watcherFiles(root).pid, { force: true })
}

/**
 * Starts (or restarts, with the spec of this `up`) the process that watches mounts and build
 * contexts while the stack runs: the engine restarts containers but watches no folders.
 */
export function startWatcher(spec: EnvSpec, preparationModule: string): void {
  stopWatcher(spec.root)
  if (!needsWatcher(spec)) return
  const files = watcherFiles(spec.root)
  writeJsonAtomic(files.spec, spec)
  mkdirSync(new ProjectPaths(spec.root).logs, { recursive: true })
  const log = openSync(files.log, 'a')
  const child = spawn(
    process.execPath,
    [fileURLToPath(new URL('./watcher-main.js', import.meta.url)), spec.root, preparationModule],
    {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: spec.root,
      env: withoutExtraCaCerts(process.env),
    },
  )
  child.unref()
  writeJsonAtomic(files.pid, child.pid ?? 0)
}

export function watchedSpec(root: string): EnvSpec {
  return JSON.parse(readFileSync(watcherFiles(root).spec, 'utf8')) as EnvSpec
}
