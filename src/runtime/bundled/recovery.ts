import { rmSync } from 'node:fs'
import { readJson } from '../../state/index.js'
import { readProjectState, writeProjectState, type ProjectState } from '../../state/index.js'
import { signalGroup } from '../../util/process-group.js'
import { isSameProcess, processStartTicks } from './process.js'
import { ownedProcessGroups } from './owned-processes.js'
import { supervisorFiles, type SupervisorInfo } from './locate.js'

/** The supervisor of the project, when it is alive. */
export function liveSupervisor(root: string): SupervisorInfo | undefined {
  const info = readJson<SupervisorInfo>(supervisorFiles(root).info)
  if (!info) return undefined
  return isSameProcess(info.pid, info.pidStart) ? info : undefined
}

/**
 * After a supervisor died (kill -9, a crash, a reboot): its services may still run, owned by
 * nobody. Stop each that is still the very process we started, so that the next supervisor
 * starts them cleanly and no service ever runs twice. The state file names them; processes it
 * does not name (it was unreadable, or lost) are found by the project's mark in their
 * environment. Returns the names it stopped ("pid N" for those found by mark alone).
 */
export async function recoverOrphans(root: string): Promise<string[]> {
  const files = supervisorFiles(root)
  const state = readProjectState(root)
  const named = Object.values(state?.services ?? {}).filter(
    (service) => service.pid && isSameProcess(service.pid, service.pidStart),
  )
  const namedGroups = new Set(named.map((service) => service.pid!))
  const marked = ownedProcessGroups(root).filter((group) => !namedGroups.has(group))
  const orphans = [
    ...named.map((service) => ({ label: service.name, pid: service.pid!, start: service.pidStart })),
    ...marked.map((group) => ({ label: `pid ${group}`, pid: group, start: processStartTicks(group) })),
  ]
  for (const orphan of orphans) signalGroup(orphan.pid, 'SIGTERM')
  const deadline = Date.now() + 3000
  while (orphans.some((orphan) => isSameProcess(orphan.pid, orphan.start)) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  for (const orphan of orphans) if (isSameProcess(orphan.pid, orphan.start)) signalGroup(orphan.pid, 'SIGKILL')
  // A group whose leader is gone but whose children are not is still found by its mark.
  if (orphans.length) for (const group of ownedProcessGroups(root)) signalGroup(group, 'SIGKILL')
  // After a clean shutdown the supervisor has written this already: a second write would only cost an fsync.
  if (state && !alreadyStopped(state)) writeProjectState(markStopped(state))
  rmSync(files.socket, { force: true })
  rmSync(files.info, { force: true })
  return orphans.map((orphan) => orphan.label)
}

function alreadyStopped(state: ProjectState): boolean {
  return (
    !state.supervisor &&
    Object.values(state.services).every(
      (service) => !service.pid && service.state === 'stopped' && service.health === 'none',
    )
  )
}

function markStopped(state: ProjectState): ProjectState {
  const services = Object.fromEntries(
    Object.entries(state.services).map(([name, service]) => {
      const { pid: _pid, pidStart: _start, ...rest } = service
      return [name, { ...rest, state: 'stopped' as const, health: 'none' as const }]
    }),
  )
  const { supervisor: _supervisor, ...rest } = state
  return { ...rest, services }
}
