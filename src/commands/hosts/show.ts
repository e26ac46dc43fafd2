import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import {
  hostsEntries,
  hostsFilePath,
  ownerOf,
  readHostsBlock,
  renderBlock,
  type HostsEntry,
} from '../../hosts/index.js'
import { runtimeFor } from '../../engine/index.js'

interface ShowResult {
  file: string
  project: string
  /** The block devenv writes for this project (null: no service has a hostname). */
  block: string | null
  /** The project's block in the file now. */
  current: string | null
  /** The file holds exactly the block above. */
  applied: boolean
  entries: HostsEntry[]
}

export default class HostsShow extends BaseCommand<typeof HostsShow> {
  static override summary = "Show the project's block of the hosts file, and whether it is applied."
  static override description =
    "Prints the lines devenv writes (each service's hostnames at its address) between markers naming the project. Changes nothing."
  static override examples = [
    '<%= config.bin %> hosts show',
    '<%= config.bin %> hosts show --json',
    'DEVENV_HOSTS_FILE=/tmp/hosts <%= config.bin %> hosts show',
  ]
  static override flags = { ...projectFlags }

  async run(): Promise<ShowResult> {
    const spec = this.loadSpec()
    const file = hostsFilePath()
    const owner = ownerOf(spec)
    const entries = hostsEntries(spec, await runtimeFor(spec).addresses(spec, Object.keys(spec.services)))
    const block = entries.length > 0 ? renderBlock(owner, entries) : null
    const current = readHostsBlock(owner, { file })?.text ?? null
    const applied = current === block
    if (!this.jsonEnabled()) {
      if (block === null)
        this.log(colors.dim(`no service of ${spec.name} has a hostname; devenv writes nothing to ${file}`))
      else this.log(block)
      this.log('')
      if (applied) this.log(`${colors.green('✔')} ${block === null ? 'nothing to apply' : `applied in ${file}`}`)
      else if (current === null) this.log(`${colors.yellow('·')} not in ${file}; run \`devenv hosts apply\``)
      else this.log(`${colors.yellow('·')} ${file} holds an older block of ${spec.name}; run \`devenv hosts apply\``)
    }
    return { file, project: spec.name, block, current, applied, entries }
  }
}
