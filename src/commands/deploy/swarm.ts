import { Flags } from '@oclif/core'
import { BaseCommand, colors, projectFlags, table } from '../../cli/index.js'
import {
  buildBoxImageIfUsed,
  deploySwarm,
  loadForExport,
  boxPlanner,
  type DeployResult,
} from '../../exporting/index.js'

export default class DeploySwarm extends BaseCommand<typeof DeploySwarm> {
  static override summary = 'Deploy the envfile to a Docker Swarm as a stack named as the project, replicas included.'
  static override description =
    'Builds the images whose build folder has a Dockerfile, checks every image is on the engine (never pulled: --resolve-image never), runs `docker stack deploy` and waits until every service runs its replicas. Where the kernel has no IPVS (/proc/net/ip_vs absent), services resolve by DNS round robin (endpoint_mode: dnsrr) and published ports are bound on the node (mode: host); it says so. `devenv status --target swarm` reads the stack back, `devenv undeploy swarm` removes it.'
  static override examples = [
    '<%= config.bin %> deploy swarm',
    '<%= config.bin %> deploy swarm --context staging',
    '<%= config.bin %> deploy swarm --json',
  ]
  static override flags = {
    ...projectFlags,
    context: Flags.string({
      description: 'docker context of a Swarm manager (default: the current one)',
      helpValue: 'NAME',
    }),
  }

  async run(): Promise<DeployResult> {
    const spec = loadForExport(this.flags.file)
    // Swarm never pulls: the image the built-in boxes run in is made on this engine first.
    await buildBoxImageIfUsed(spec, (message) => this.note(colors.dim(message)))
    const result = await deploySwarm(
      spec,
      boxPlanner,
      this.flags.context ? { context: this.flags.context } : {},
      (message) => this.note(colors.dim(message)),
    )
    for (const note of result.notes) this.warning(note)
    if (!this.jsonEnabled()) {
      this.log(
        table(
          ['SERVICE', 'REPLICAS', 'IMAGE', 'PORTS'],
          result.services.map((service) => [
            service.name,
            `${service.running}/${service.desired}`,
            service.image,
            service.ports,
          ]),
        ),
      )
      this.note(`${colors.green('✔')} stack ${result.stack} deployed (endpoint mode ${result.endpointMode})`)
    }
    return result
  }
}
