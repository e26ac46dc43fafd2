import { BaseCommand } from '../cli/index.js'
import { colors, stateColor, table } from '../cli/index.js'
import { projectActivity } from '../engine/index.js'
import { readProjectState } from '../state/index.js'
import { knownProjects } from '../state/index.js'

interface ProjectSummary {
  name: string
  root: string
  supervisor: { pid: number | null; running: boolean }
  /** What runs it: "supervisor pid 4242", "6 containers on the docker engine". */
  runtime?: string
  services: Array<{ name: string; state: string; health: string; address: string }>
}

export default class GlobalStatus extends BaseCommand<typeof GlobalStatus> {
  static override summary = 'Every devenv project on this machine and the state of its services.'
  static override description = 'Projects whose folder (or envfile) is gone are forgotten.'
  static override examples = ['<%= config.bin %> global-status', '<%= config.bin %> global-status --json']

  async run(): Promise<{ projects: ProjectSummary[] }> {
    const projects = (await knownProjects()).map((project): ProjectSummary => {
      const activity = projectActivity(project.root)
      const supervisor = activity.active ? { pid: activity.pid ?? null } : undefined
      const state = readProjectState(project.root)
      const recorded = Object.values(state?.services ?? {}).map((service) => ({
        name: service.name,
        state: supervisor ? service.state : 'stopped',
        health: service.health,
        address: service.address,
      }))
      const engine = (activity.services ?? []).map((name) => ({ name, state: 'running', health: 'none', address: '' }))
      return {
        name: project.name,
        root: project.root,
        supervisor: { pid: supervisor?.pid ?? null, running: Boolean(supervisor) },
        ...(activity.detail ? { runtime: activity.detail } : {}),
        services: activity.services ? engine : recorded,
      }
    })
    if (!this.jsonEnabled()) {
      if (projects.length === 0) this.log('No devenv projects on this machine yet.')
      else
        this.log(
          table(
            ['PROJECT', 'FOLDER', 'RUNNING', 'SERVICES'],
            projects.map((project) => [
              colors.bold(project.name),
              project.root,
              project.supervisor.running
                ? colors.green(project.runtime ?? `pid ${project.supervisor.pid}`)
                : colors.dim('stopped'),
              project.services.map((service) => `${service.name} ${stateColor(service.state)}`).join(', ') || '-',
            ]),
          ),
        )
    }
    return { projects }
  }
}
