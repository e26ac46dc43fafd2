import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { writeFileAtomic } from '../state/index.js'
import { machineHome } from '../state/index.js'
import type { HostsChange } from './change.js'

/**
 * Elevation for the one write the user may not make: a small helper script, run as root, that
 * applies a saved change request. The CLI itself never runs as root.
 */
export function helperScript(): string {
  return fileURLToPath(new URL('./elevated-write.js', import.meta.url))
}

/** Saves the request where the user can read it, for a command run now or later. */
export function saveChangeRequest(change: HostsChange): string {
  const id = createHash('sha256').update(`${change.file}\0${change.owner.root}`).digest('hex').slice(0, 12)
  const file = path.join(machineHome(), 'hosts-requests', `${change.owner.project}-${id}.json`)
  writeFileAtomic(file, `${JSON.stringify(change, null, 2)}\n`)
  return file
}

/** The command that applies a saved request with administrator rights. */
export function elevatedCommand(requestFile: string): string[] {
  const helper = [process.execPath, helperScript(), requestFile]
  return process.platform === 'win32' ? helper : ['sudo', ...helper]
}

export function shellQuote(word: string): string {
  return /^[\w@%+=:,./\\-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** Runs the helper through sudo, which asks for the password on the terminal. */
export function runElevated(requestFile: string): { ok: boolean; reason?: string } {
  const [command, ...args] = elevatedCommand(requestFile)
  if (process.platform === 'win32') return { ok: false, reason: 'elevation needs an administrator prompt on Windows' }
  const result = spawnSync(command!, args, { stdio: 'inherit' })
  if (result.error) return { ok: false, reason: `cannot run sudo: ${result.error.message}` }
  if (result.status !== 0) return { ok: false, reason: `sudo exited with status ${result.status ?? result.signal}` }
  return { ok: true }
}
