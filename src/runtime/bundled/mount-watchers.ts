import type { MountChange, MountsWatcher } from '../../watch/index.js'
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
   * of them always serves. When one fails to come back with the change, those still waiting are
   * not restarted (as a rolling update halts): they go on serving the code they have.
   */
  private readonly rolling = new Map<string, Promise<void>>()
  /** Per folder, the turn count when a restart last failed; turns counted across all folders. */
  private readonly failedAt = new Map<string, { turn: number; service: string }>()
  private turns = 0

  async start(service: SupervisedService): Promise<void> {
    await this.stop(service.spec.name)
    const mounts = service.spec.mounts.filter(
      (mount) => mount.watch.kind === 'restart' || mount.watch.kind === 'command',
    )
    if (mounts.length === 0) return
    const { watchMounts } = await import('../../watch/index.js')
    const watcher = watchMounts(
      { ...service.spec, mounts },
      {
        onChange: (change) =>
          changed(service, change, (restart) => this.inTurn(change.mount.source, service.spec.name, restart)),
        onError: (error) => service.note(`watch: ${error.message}`),
      },
    )
    this.watchers.set(service.spec.name, watcher)
    await watcher.ready
  }

  /** Stops watching (and waits for an action under way, which is aborted). */
  async stop(name: string): Promise<void> {
    const watcher = this.watchers.get(name)
    this.watchers.delete(name)
    await watcher?.close()
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.watchers.keys()].map((name) => this.stop(name)))
  }

  /** Runs `restart` once the restarts queued before it for `folder` are over; the name of the service that failed meanwhile when it did not run. */
  private inTurn(folder: string, name: string, restart: () => Promise<void>): Promise<string | undefined> {
    const queuedAt = ++this.turns
    const turn = (this.rolling.get(folder) ?? Promise.resolve()).then(async () => {
      const failure = this.failedAt.get(folder)
      if (failure && failure.turn > queuedAt && failure.service !== name) return failure.service
      try {
        await restart()
        return undefined
      } catch (error) {
        this.failedAt.set(folder, { turn: ++this.turns, service: name })
        throw error
      }
    })
    const settled = turn.then(
      () => undefined,
      () => undefined,
    )
    this.rolling.set(folder, settled)
    void settled.then(() => {
      if (this.rolling.get(folder) === settled) this.rolling.delete(folder)
    })
    return turn
  }
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
