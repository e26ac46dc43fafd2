import { Args, Flags } from '@oclif/core'
import { BaseCommand, projectFlags } from '../../cli/index.js'
import { colors } from '../../cli/index.js'
import type { EnvSpec } from '../../envfile/index.js'
import { usage } from '../../errors.js'
import { ProjectPaths } from '../../state/index.js'
import {
  allSnapshotMembers,
  formatBytes,
  saveSnapshot,
  saveSnapshotSet,
  snapshotMember,
  type SnapshotInfo,
  type SnapshotManifest,
} from '../../snapshots/index.js'
import { runtimeFor } from '../../engine/index.js'

export default class SnapshotSave extends BaseCommand<typeof SnapshotSave> {
  static override summary = "Save a service's state as a named snapshot (default name: the date and time)."
  static override description =
    'The service is stopped (or checkpointed) only while its data folder is copied, then started again. With --all, every stateful service is saved under one name, as a set.'
  static override examples = [
    '<%= config.bin %> snapshot save db',
    '<%= config.bin %> snapshot save db before-migration',
    '<%= config.bin %> snapshot save --all before-upgrade',
    '<%= config.bin %> snapshot save db --json',
  ]
  static override args = {
    service: Args.string({ description: 'service to snapshot (with --all: the name of the set)' }),
    name: Args.string({ description: 'snapshot name: letters, digits, "-", "_", "."' }),
  }
  static override flags = {
    ...projectFlags,
    all: Flags.boolean({ description: 'snapshot every stateful service under one name' }),
  }

  async run(): Promise<{ snapshots: SnapshotInfo[] }> {
    return saveAndReport(
      this.loadSpec(),
      { all: this.flags.all, service: this.args.service, name: this.args.name },
      (line) => {
        if (!this.jsonEnabled()) this.log(line)
      },
    )
  }
}

/** Shared with `devenv snapshot SERVICE`. */
export async function saveAndReport(
  spec: EnvSpec,
  { all, service, name }: { all: boolean; service: string | undefined; name: string | undefined },
  say: (line: string) => void,
): Promise<{ snapshots: SnapshotInfo[] }> {
  const paths = new ProjectPaths(spec.root)
  const started = performance.now()
  let saved: SnapshotManifest[]
  if (all) {
    if (name !== undefined)
      throw usage('with --all, give only the name of the set', 'devenv snapshot save --all [NAME]')
    saved = await saveSnapshotSet(paths, allSnapshotMembers(runtimeFor(spec), spec, 'save'), service)
  } else {
    if (!service) throw usage('name the service to snapshot, or use --all', 'devenv snapshot save SERVICE [NAME]')
    saved = [
      await saveSnapshot({
        paths,
        ...snapshotMember(runtimeFor(spec), spec, service, 'save'),
        ...(name ? { name } : {}),
      }),
    ]
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(2)
  for (const manifest of saved) {
    say(
      `${colors.green('✔')} saved snapshot ${colors.bold(manifest.name)} of ${manifest.service} (${formatBytes(manifest.size)}, ${manifest.files} files)`,
    )
  }
  say(
    colors.dim(
      `  in ${seconds}s; restore with: devenv snapshot restore ${all ? '--all' : saved[0]!.service} ${saved[0]!.name}`,
    ),
  )
  return { snapshots: saved.map(({ entries: _entries, format: _format, ...info }) => info) }
}
