import { Flags } from '@oclif/core'
import { renameSync, existsSync } from 'node:fs'
import { createInterface } from 'node:readline/promises'
import { BaseCommand, projectFlags } from '../cli/index.js'
import { colors } from '../cli/index.js'
import { DevenvError } from '../errors.js'
import { clearHosts } from '../hosts/index.js'
import { hostsWriteFlags } from '../cli/index.js'
import { runtimeFor } from '../engine/index.js'
import { forgetRuntimeChoice, releaseAddresses } from '../state/index.js'
import { ProjectPaths } from '../state/index.js'
import { removeTreeAnyOwner } from '../util/user-namespace.js'

export default class Destroy extends BaseCommand<typeof Destroy> {
  static override summary =
    "Stop everything and delete the project's state: databases, mail, logs, snapshots (.devenv/)."
  static override description =
    'Asks first unless --force. The envfile and your source files are never touched. Committed boxes in the machine-wide store stay.'
  static override examples = [
    '<%= config.bin %> destroy',
    '<%= config.bin %> destroy --force',
    '<%= config.bin %> destroy --force --no-hosts',
  ]
  static override flags = {
    ...projectFlags,
    ...hostsWriteFlags,
    force: Flags.boolean({ description: 'do not ask' }),
    'no-hosts': Flags.boolean({ description: 'leave the hosts file alone' }),
  }

  async run(): Promise<{ project: string; deleted: string }> {
    const spec = this.loadSpec()
    const paths = new ProjectPaths(spec.root)
    if (!this.flags.force) {
      if (!process.stdin.isTTY || this.jsonEnabled()) {
        throw new DevenvError('USAGE', `refusing to delete ${paths.dir} without --force`, {
          hint: "Run `devenv destroy --force` to delete the project's data.",
        })
      }
      const prompt = createInterface({ input: process.stdin, output: process.stderr })
      const answer = await prompt.question(
        `Delete ${paths.dir} (databases, mail, logs, snapshots of ${spec.name})? [y/N] `,
      )
      prompt.close()
      if (!/^y(es)?$/i.test(answer.trim())) {
        this.note('nothing deleted')
        return { project: spec.name, deleted: '' }
      }
    }
    await runtimeFor(spec).down(spec)
    forgetRuntimeChoice(spec.root)
    if (!this.flags['no-hosts']) {
      const hosts = await clearHosts(spec, { sudo: !this.flags['no-sudo'], note: (line) => this.note(line) })
      if (!hosts.applied && hosts.command) this.warning(hosts.message)
    }
    if (existsSync(paths.dir)) {
      // Rename first, so a kill mid-delete never leaves a half-deleted .devenv that looks like state.
      const doomed = `${paths.dir}.deleting-${process.pid}`
      renameSync(paths.dir, doomed)
      // Without root, image services' writable layers hold files of their user namespaces' ids.
      removeTreeAnyOwner(doomed)
    }
    await releaseAddresses(spec.root)
    if (!this.jsonEnabled()) this.log(`${colors.green('✔')} destroyed ${spec.name}: deleted ${paths.dir}`)
    return { project: spec.name, deleted: paths.dir }
  }
}
