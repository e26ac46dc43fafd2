import { BaseCommand, projectFlags } from '../cli/base-command.js'
import { renderStatus } from '../cli/render-status.js'
import { runtimeFor } from '../runtime/index.js'
import type { ProjectState, ServiceState } from '../state/project-state.js'

type PublicService = Omit<ServiceState, 'pidStart' | 'notes' | 'message'> & { message?: string; notes?: string[] }

export default class Status extends BaseCommand<typeof Status> {
  static override summary = 'Show each service: state, health, address, ports, hostnames.'
  static override aliases = ['ps']
  static override examples = ['<%= config.bin %> status', '<%= config.bin %> ps', '<%= config.bin %> status --json | jq \'.services[] | select(.health != "healthy")\'']
  static override flags = { ...projectFlags }

  async run(): Promise<{ project: string; root: string; supervisor: { pid: number | null; running: boolean }; services: PublicService[] }> {
    const spec = this.loadSpec()
    const state: ProjectState = await runtimeFor(spec).inspect(spec)
    if (!this.jsonEnabled()) this.log(renderStatus(state))
    return {
      project: state.project,
      root: state.root,
      supervisor: { pid: state.supervisor?.pid ?? null, running: Boolean(state.supervisor) },
      services: Object.values(state.services).map(({ pidStart: _pidStart, ...service }) => service),
    }
  }
}
