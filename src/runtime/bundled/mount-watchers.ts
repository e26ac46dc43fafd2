import type { MountChange, MountsWatcher } from '../../watch/index.js'
import type { MountSpec, ServiceSpec } from '../../envfile/index.js'
import type { SupervisedService } from './service.js'

/**
 * The supervisor's watchers: for each running service, its mounts whose watch is `restart` or a
 * command, and what a change does. A `sync` mount needs no watcher here: the service reads the
 * very files that changed. The watch module is loaded only when some service has such a mount.
 */
export class MountWatchers {
  private readonly watchers = new Map<string, MountsWatcher>()
  /**
   * Restarts for a change of one folder, one after the other: services that watch the same folder
   * (www1 and www2 behind a balancer) restart in turn, each ready before the next stops, so one
   * of them always serves. A service that serves nothing (failed with the last change) goes first:
   * restarting it takes nothing away, and a serving one stopped before it would leave none. When
   * one fails to come back with the change, those still waiting are not restarted (as a rolling
   * update halts): they go on serving the code they have.
   */
  private readonly queues = new Map<string, Turn[]>()
  /** The services watching each folder with `watch: restart`. */
  private readonly members = new Map<string, Map<string, SupervisedService>>()
  private readonly busy = new Set<string>()
  /** Per folder, the turn count when a restart last failed; turns counted across all folders. */
  private readonly failedAt = new Map<string, { turn: number; service: string }>()
  private turns = 0

  /**
   * Starts loading the watcher while the services start, when one of them will need it: a service
   * is ready only once its watcher is (start), and loading it then took ~15 ms of the last one's.
   */
  preload(services: readonly ServiceSpec[]): void {
    if (services.some((service) => watchedMounts(service).length > 0)) void loadWatcher().catch(() => undefined)
  }

  async start(service: SupervisedService): Promise<void> {
    await this.stop(service.spec.name)
    const mounts = watchedMounts(service.spec)
    if (mounts.length === 0) return
    const { watchMounts } = await loadWatcher()
    const watcher = watchMounts(
      { ...service.spec, mounts },
      {
        onChange: (change) =>
          changed(service, change, (restart) =>
            this.inTurn(change.mount.source, { name: service.spec.name, serving: () => service.ready, restart }),
          ),
        onError: (error) => service.note(`watch: ${error.message}`),
      },
    )
    this.watchers.set(service.spec.name, watcher)
    for (const mount of mounts) {
      if (mount.watch.kind !== 'restart') continue
      const members = this.members.get(mount.source) ?? new Map<string, SupervisedService>()
      this.members.set(mount.source, members.set(service.spec.name, service))
    }
    await watcher.ready
  }

  /** Stops watching (and waits for an action under way, which is aborted). */
  async stop(name: string): Promise<void> {
    const watcher = this.watchers.get(name)
    this.watchers.delete(name)
    for (const members of this.members.values()) members.delete(name)
    await watcher?.close()
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((name) => this.stop(name)))
  }

  /** Runs the restart once its turn comes for `folder`; the name of the service that failed meanwhile when it did not run. */
  private inTurn(folder: string, turn: Omit<Turn, 'queuedAt' | 'done'>): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(folder) ?? []
      this.queues.set(folder, queue)
      queue.push({ ...turn, queuedAt: ++this.turns, done: { resolve, reject } })
      void this.next(folder)
    })
  }

  /**
   * A member of the folder whose turn is worth waiting for: one that serves nothing (it goes
   * first) while every queued turn serves, or, for a moment, any member not queued yet, so that
   * the order is the members' (by name: www1 before www2), not whichever watcher spoke first.
   */
  private awaitedMember(folder: string, queue: Turn[], waited: number): boolean {
    if (queue.some((turn) => !turn.serving())) return false
    const queued = new Set(queue.map((turn) => turn.name))
    return [...(this.members.get(folder)?.values() ?? [])].some(
      (member) => !queued.has(member.spec.name) && (!member.ready || waited < SIBLING_WAIT_MS),
    )
  }

  private async next(folder: string): Promise<void> {
    if (this.busy.has(folder)) return
    const queue = this.queues.get(folder)
    if (!queue?.length) {
      this.queues.delete(folder)
      return
    }
    this.busy.add(folder)
    // Each watcher hears of the change on its own: give one that serves nothing (and so goes
    // first) a moment to queue its turn before a serving one is stopped.
    for (let waited = 0; waited < MEMBER_WAIT_MS && this.awaitedMember(folder, queue, waited); waited += POLL_MS) {
      await new Promise((resolve) => setTimeout(resolve, POLL_MS))
    }
    queue.sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))
    const notServing = queue.findIndex((turn) => !turn.serving())
    const [turn] = queue.splice(notServing >= 0 ? notServing : 0, 1)
    try {
      const failure = this.failedAt.get(folder)
      if (failure && failure.turn > turn!.queuedAt && failure.service !== turn!.name)
        turn!.done.resolve(failure.service)
      else {
        try {
          await turn!.restart()
          turn!.done.resolve(undefined)
        } catch (error) {
          this.failedAt.set(folder, { turn: ++this.turns, service: turn!.name })
          turn!.done.reject(error)
        }
      }
    } finally {
      this.busy.delete(folder)
      void this.next(folder)
    }
  }
}

/** How long a serving service's restart waits for a non-serving one of its folder to queue first. */
const MEMBER_WAIT_MS = 1000
/** How long the first turn waits for the other members' watchers, which hear of the same change within a few ms. */
const SIBLING_WAIT_MS = 20
const POLL_MS = 5

interface Turn {
  name: string
  /** Does the service answer now? One that does not goes first. */
  serving: () => boolean
  restart: () => Promise<void>
  queuedAt: number
  done: { resolve: (failed: string | undefined) => void; reject: (error: unknown) => void }
}

async function changed(
  service: SupervisedService,
  change: MountChange,
  inTurn: (restart: () => Promise<void>) => Promise<string | undefined>,
): Promise<void> {
  const { describeChange, runWatchCommand } = await import('../../watch/index.js')
  service.note(`change: ${describeChange(change)}`)
  if (change.action.kind === 'restart') {
    const started = Date.now()
    try {
      // Changed again while waiting for its turn: the next burst restarts it; until then it serves on.
      const failed = await inTurn(() =>
        change.superseded.aborted ? Promise.resolve() : service.restartForChange(change.superseded),
      )
      if (failed) {
        service.note(
          `not restarted: ${failed} did not come back with this change, so this one goes on serving the code it has (fix the files and save again)`,
        )
        return
      }
      if (change.signal.aborted) return
      if (change.superseded.aborted) {
        service.note('changed again before it was healthy: restarting again')
        return
      }
      service.note(`restarted after the change in ${Date.now() - started} ms`)
    } catch (error) {
      service.note(
        `restart after the change failed: ${error instanceof Error ? error.message : String(error)} (its log is kept; fix the file and save again)`,
      )
    }
  } else if (change.action.kind === 'command') {
    const result = await runWatchCommand(change.action.command, {
      cwd: service.spec.workdir,
      env: service.environment(),
      log: (line) => service.note(`watch: ${line}`),
      signal: change.signal,
    })
    service.note(
      `watch command ${result.ok ? 'done' : `failed (exit ${result.exitCode ?? result.signal})`} in ${result.durationMs} ms`,
    )
  }
}

/** The mounts a watcher acts on (`watch: sync` needs none: a bind mount is live already). */
function watchedMounts(service: ServiceSpec): MountSpec[] {
  return service.mounts.filter((mount) => mount.watch.kind === 'restart' || mount.watch.kind === 'command')
}

const loadWatcher = () => import('../../watch/index.js')
