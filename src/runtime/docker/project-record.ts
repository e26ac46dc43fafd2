import { rmSync } from 'node:fs'
import { readJson, writeJsonAtomic } from '../../state/index.js'
import { ProjectPaths } from '../../state/index.js'

/**
 * What devenv made on the engine for a project, kept beside its state: `activity()` answers from it
 * without a round trip (global-status, hosts claims), and services stopped on purpose are told
 * from services that died. The engine's labels stay the truth for `down` and recovery.
 */
export interface ProjectRecord {
  network: string
  containers: Record<string, string>
  /** Services stopped by `devenv stop`, not by a crash. */
  stopped: string[]
}

function recordFile(root: string): string {
  return `${new ProjectPaths(root).dir}/docker.json`
}

export function readRecord(root: string): ProjectRecord | undefined {
  return readJson<ProjectRecord>(recordFile(root))
}

export function updateRecord(root: string, network: string, change: (record: ProjectRecord) => void): void {
  const record = readRecord(root) ?? { network, containers: {}, stopped: [] }
  change(record)
  writeJsonAtomic(recordFile(root), record)
}

export function forgetRecord(root: string): void {
  rmSync(recordFile(root), { force: true })
}
