import { rmSync } from 'node:fs'
import { readJson, writeJsonAtomic } from './atomic.js'
import { ProjectPaths } from './paths.js'

type RuntimeName = 'bundled' | 'docker'

/**
 * The runtime `up --runtime` chose for a project, so that `status`, `logs` and `down` afterwards
 * talk to the runtime its services run on without the flag. `down` forgets it.
 */
function choiceFile(root: string): string {
  return `${new ProjectPaths(root).dir}/runtime.json`
}

export function readRuntimeChoice(root: string): RuntimeName | undefined {
  const choice = readJson<{ runtime?: string }>(choiceFile(root))?.runtime
  return choice === 'bundled' || choice === 'docker' ? choice : undefined
}

export function writeRuntimeChoice(root: string, runtime: RuntimeName): void {
  writeJsonAtomic(choiceFile(root), { runtime })
}

export function forgetRuntimeChoice(root: string): void {
  rmSync(choiceFile(root), { force: true })
}
