import { rmSync } from 'node:fs'
import { readJson } from '../../state/atomic.js'
import { readProjectState, writeProjectState, type ProjectState } from '../../state/project-state.js'
import { signalGroup } from '../../util/process-group.js'
import { isSameProcess } from './process.js'
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
 * starts them cleanly and no service ever runs twice. Returns the names it stopped.
 */
export async function recoverOrphans(root: string): Promise<string[]> {
  const files = supervisorFiles(root)
  const state = readProjectState(root)
  const stopped: string[] = []
  if (state) {
    const orphans = Object.values(state.services).filter((service) => service.pid && isSameProcess(service.pid, service.pidStart))
    for (const service of orphans) signalGroup(service.pid!, 'SIGTERM')
    const deadline = Date.now() + 3000
    while (orphans.some((service) => isSameProcess(service.pid!, service.pidStart)) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    for (const service of orphans) {
      if (isSameProcess(service.pid!, service.pidStart)) signalGroup(service.pid!, 'SIGKILL')
      stopped.push(service.name)
    }
    writeProjectState(markStopped(state))
  }
  rmSync(files.socket, { force: true })
  rmSync(files.info, { force: true })
  return stopped
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
