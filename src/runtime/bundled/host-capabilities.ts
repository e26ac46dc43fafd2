import { readFileSync } from 'node:fs'
import path from 'node:path'
import { machineHome, readJson, writeJsonAtomic } from '../../state/index.js'

interface CapabilityRecord {
  bootId: string
  uid: number
  worked: string[]
}

function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim()
  } catch {
    return undefined
  }
}

function recordFile(): string {
  return path.join(machineHome(), 'cache', 'host-capabilities.json')
}

/**
 * Whether a kernel feature works here, found out by `probe` (a short process, ~10–30 ms that
 * blocks the supervisor) once per boot and user: a success is remembered until the machine
 * restarts; a failure is probed again next time, so a feature turned on later is seen.
 */
export function hostCapability(name: string, probe: () => boolean): boolean {
  const boot = bootId()
  const uid = process.getuid?.() ?? -1
  const known = boot ? readJson<CapabilityRecord>(recordFile()) : undefined
  if (known && known.bootId === boot && known.uid === uid && known.worked.includes(name)) return true
  if (!probe()) return false
  if (boot) {
    const worked = known && known.bootId === boot && known.uid === uid ? known.worked : []
    try {
      writeJsonAtomic(recordFile(), {
        bootId: boot,
        uid,
        worked: [...new Set([...worked, name])],
      } satisfies CapabilityRecord)
    } catch {
      // a read-only or full DEVENV_HOME: the probe runs again next time, nothing else changes
    }
  }
  return true
}
