import { lstatSync, statSync } from 'node:fs'
import path from 'node:path'
import { watch, type FSWatcher } from 'chokidar'
import type { MountSpec, ServiceSpec, WatchAction } from '../envfile/index.js'
import { DevenvError } from '../errors.js'
import { Burst, realTimers, type Timers } from './burst.js'
import { ignoreTest } from './ignore.js'

export interface MountChange {
  service: string
  mount: MountSpec
  action: WatchAction
  /** What changed in this burst, relative to the mount's source, sorted, each once. */
  paths: string[]
  /** Aborted when watching stops (the service is being stopped or replaced): an action should give up. */
  signal: AbortSignal
  /**
   * Aborted as well when the mount changes again while the action runs: waiting for a restart to
   * become healthy is then pointless (the next burst restarts it again), while a build may as well
   * finish (the next burst builds again).
   */
  superseded: AbortSignal
}

export interface WatchHandlers {
  /**
   * Once per burst per mount. While a returned promise is pending, further changes of that
   * mount wait and form the next burst.
   */
  onChange(change: MountChange): void | Promise<void>
  /** A watcher failure or a rejected onChange. Watching goes on. */
  onError?(error: DevenvError, mount: MountSpec): void
}

export interface WatchOptions {
  /** Quiet period that ends a burst of saves. */
  debounceMs?: number
  /** Longest a never-ending burst is held back. */
  maxWaitMs?: number
  timers?: Timers
}

export interface MountsWatcher {
  /** Resolves once every mount is being watched (changes before that may be missed). */
  ready: Promise<void>
  /** The mounts actually watched (those whose watch is not `none`). */
  mounts: MountSpec[]
  close(): Promise<void>
}

/**
 * The longest silence inside one editor save: a few ms for write-to-temp-then-rename, but up to
 * ~70 ms for vim's backup-write-delete on a loaded machine (its fsync). A shorter quiet period would
 * split such a save and restart a service while its file is missing. See docs/benchmarks.md.
 */
export const DEFAULT_DEBOUNCE_MS = 100
/**
 * For a burst of in-place changes only (Burst's settledQuietMs): the writes of one save come
 * within a millisecond or two of each other; 30 ms leaves room for a loaded machine.
 */
export const DEFAULT_SETTLED_QUIET_MS = 30
export const DEFAULT_MAX_WAIT_MS = 1000

/** Watches every mount of `service` whose watch is not `none` and reports each burst of changes. */
export function watchMounts(service: ServiceSpec, handlers: WatchHandlers, options: WatchOptions = {}): MountsWatcher {
  const mounts = service.mounts.filter((mount) => mount.watch.kind !== 'none')
  for (const mount of mounts) assertFolder(service.name, mount)
  const watchers = mounts.map((mount) => watchMount(service.name, mount, handlers, options))
  return {
    mounts,
    ready: Promise.all(watchers.map((watcher) => watcher.ready)).then(() => undefined),
    close: async () => {
      await Promise.all(watchers.map((watcher) => watcher.close()))
    },
  }
}

function watchMount(service: string, mount: MountSpec, handlers: WatchHandlers, options: WatchOptions) {
  const reportError = (error: unknown) => handlers.onError?.(asDevenvError(service, mount, error), mount)
  const burst = new Burst(
    (paths, signals) =>
      handlers.onChange({
        service,
        mount,
        action: mount.watch,
        paths,
        signal: signals.closed,
        superseded: signals.superseded,
      }),
    {
      quietMs: options.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      // A debounce asked for explicitly is kept for every kind of burst.
      ...(options.debounceMs === undefined ? { settledQuietMs: DEFAULT_SETTLED_QUIET_MS } : {}),
      maxWaitMs: options.maxWaitMs ?? DEFAULT_MAX_WAIT_MS,
      timers: options.timers ?? realTimers,
      onError: reportError,
      isGone: (relative) => !lstatSync(path.join(mount.source, relative), { throwIfNoEntry: false }),
    },
  )
  const isIgnored = ignoreTest(mount.source, mount.ignore)
  const watcher: FSWatcher = watch(mount.source, {
    ignoreInitial: true,
    ignored: (file: string) => isIgnored(file),
    // chokidar's own atomic handling holds every unlink back 100 ms; a burst needs no such wait.
    atomic: false,
    // A link to a folder outside the mount (even to /) would otherwise be walked and watched whole.
    followSymlinks: false,
    persistent: true,
  })
  // chokidar reports symlinks found during its first walk despite ignoreInitial.
  let scanned = false
  watcher.on('all', (event, file) => {
    if (!scanned) return
    // A mount of a single file reports that file by name.
    const relative = path.relative(mount.source, file) || path.basename(file)
    burst.add(relative.split(path.sep).join('/'), event)
  })
  // chokidar reports a change only after a stat; the raw event that started it already tells
  // that the folder is not quiet yet.
  watcher.on('raw', () => {
    if (scanned) burst.touch()
  })
  watcher.on('error', reportError)
  const ready = new Promise<void>((resolve) =>
    watcher.once('ready', () => {
      scanned = true
      resolve()
    }),
  )
  return {
    ready,
    close: async () => {
      await Promise.all([burst.close(), watcher.close()])
    },
  }
}

function assertFolder(service: string, mount: MountSpec): void {
  if (!statSync(mount.source, { throwIfNoEntry: false })) {
    throw new DevenvError('NOT_FOUND', `cannot watch the mount ${mount.source} of ${service}: it does not exist`, {
      hint: 'Create it, or set `watch: none` on the mount.',
    })
  }
}

function asDevenvError(service: string, mount: MountSpec, error: unknown): DevenvError {
  if (error instanceof DevenvError) return error
  const reason = error instanceof Error ? error.message : String(error)
  return new DevenvError('RUNTIME', `watching ${mount.source} for ${service} failed: ${reason}`, { cause: error })
}

/** One log line for a burst: "3 changes in /p/app (index.js, lib/a.js, +1 more) → restart". */
export function describeChange(change: MountChange, shown = 3): string {
  const names = change.paths.slice(0, shown).join(', ')
  const more = change.paths.length > shown ? `, +${change.paths.length - shown} more` : ''
  const action = change.action.kind === 'command' ? `run: ${change.action.command}` : change.action.kind
  const count = change.paths.length === 1 ? '1 change' : `${change.paths.length} changes`
  return `${count} in ${change.mount.source} (${names}${more}) → ${action}`
}
