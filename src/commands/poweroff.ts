import { BaseCommand } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { resolveCommittedBox } from '../boxes/store/index.js'
import { loadEnvfile } from '../envfile/index.js'
import { isDevenvError } from '../errors.js'
import { projectActivity, runtimeFor } from '../engine/index.js'
import { knownProjects } from '../state/index.js'

interface PoweredOff {
  name: string
  root: string
  stopped: boolean
  error?: string
}

export default class Poweroff extends BaseCommand<typeof Poweroff> {
  static override summary = 'Stop every devenv project on this machine, as `ddev poweroff`. Data is kept.'
  static override description =
    'Runs `devenv down` for each project `devenv global-status` lists whose supervisor is running. Hosts file entries stay (`devenv down` in a project removes its own).'
  static override examples = ['<%= config.bin %> poweroff', '<%= config.bin %> poweroff --json']

  async run(): Promise<{ projects: PoweredOff[] }> {
    const running = (await knownProjects()).filter((project) => projectActivity(project.root).active)
    const projects: PoweredOff[] = []
    for (const project of running) {
      try {
        const spec = loadEnvfile({ file: project.envfile, resolveBox: resolveCommittedBox })
        await runtimeFor(spec).down(spec)
        projects.push({ name: project.name, root: project.root, stopped: true })
        this.note(`${colors.green('✔')} ${project.name} is down ${colors.dim(project.root)}`)
      } catch (error) {
        // One broken project (its envfile edited into an error) does not keep the others running.
        const message = isDevenvError(error) ? error.message : String(error)
        projects.push({ name: project.name, root: project.root, stopped: false, error: message })
        this.warning(`${project.name} (${project.root}) was not stopped: ${message}`)
        process.exitCode = 1
      }
    }
    if (!this.jsonEnabled() && running.length === 0) this.log('No devenv project is running on this machine.')
    else if (!this.jsonEnabled())
      this.log(
        `${projects.filter((project) => project.stopped).length} of ${running.length} running project(s) stopped`,
      )
    return { projects }
  }
}
