import type { EnvSpec } from '../envfile/index.js'
import { usage } from '../errors.js'
import { runtimeFor } from '../engine/index.js'
import { ProjectPaths } from '../state/index.js'
import {
  allSnapshotMembers,
  formatBytes,
  saveSnapshot,
  saveSnapshotSet,
  snapshotMember,
  type SnapshotInfo,
  type SnapshotManifest,
} from '../snapshots/index.js'
import type { CommandOutput } from './command-output.js'
import { colors } from './output.js'

export interface SaveRequest {
  all: boolean
  /** The service; with --all, the name of the set. */
  service: string | undefined
  name: string | undefined
}

/** `devenv snapshot save` and `devenv snapshot SERVICE`, whichever route runs them. */
export async function saveAndReport(
  spec: EnvSpec,
  { all, service, name }: SaveRequest,
  out: CommandOutput,
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
    out.log(
      `${colors.green('✔')} saved snapshot ${colors.bold(manifest.name)} of ${manifest.service} (${formatBytes(manifest.size)}, ${manifest.files} files)`,
    )
  }
  out.log(
    colors.dim(
      `  in ${seconds}s; restore with: devenv snapshot restore ${all ? '--all' : saved[0]!.service} ${saved[0]!.name}`,
    ),
  )
  return { snapshots: saved.map(({ entries: _entries, format: _format, ...info }) => info) }
}
