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
   * of them always serves.
   */
  private readonly rolling = new Map<string, Promise<void>>()

  async start(service: SupervisedService): Promise<void> {
    await this.stop(service.spec.name)
    const mounts = service.spec.mounts.filter((mount) => mount.watch.kind === 'restart' || mount.watch.kind === 'command')
    if (mounts.length === 0) return
    const { watchMounts } = await import('../../watch/index.js')
    const watcher = watchMounts({ ...service.spec, mounts }, {
      onChange: (change) => changed(service, change, (restart) => this.inTurn(change.mount.source, restart)),
      onError: (error) => service.note(`watch: ${error.message}`),
    })
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

  private inTurn(folder: string, restart: () => Promise<void>): Promise<void> {
    const turn = (this.rolling.get(folder) ?? Promise.resolve()).then(restart)
    const settled = turn.catch(() => undefined)
    this.rolling.set(folder, settled)
    void settled.then(() => {
      if (this.rolling.get(folder) === settled) this.rolling.delete(folder)
    })
    return turn
  }
}

async function changed(service: SupervisedService, change: MountChange, inTurn: (restart: () => Promise<void>) => Promise<void>): Promise<void> {
  const { describeChange, runWatchCommand } = await import('../../watch/index.js')
  service.note(`change: ${describeChange(change)}`)
  if (change.action.kind === 'restart') {
    const started = Date.now()
    try {
      // Changed again while waiting for its turn: the next burst restarts it; until then it serves on.
      await inTurn(() => (change.superseded.aborted ? Promise.resolve() : service.restartForChange(change.superseded)))
      if (change.signal.aborted) return
      if (change.superseded.aborted) {
        service.note('changed again before it was healthy: restarting again')
        return
      }
      service.note(`restarted after the change in ${Date.now() - started} ms`)
    } catch (error) {
      service.note(`restart after the change failed: ${error instanceof Error ? error.message : String(error)} (its log is kept; fix the file and save again)`)
    }
  } else if (change.action.kind === 'command') {
    const result = await runWatchCommand(change.action.command, { cwd: service.spec.workdir, env: service.environment(), log: (line) => service.note(`watch: ${line}`), signal: change.signal })
    service.note(`watch command ${result.ok ? 'done' : `failed (exit ${result.exitCode ?? result.signal})`} in ${result.durationMs} ms`)
  }
}
