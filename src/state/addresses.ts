import { readFileSync } from 'node:fs'
import path from 'node:path'
import { readJson, writeJsonAtomic } from './atomic.js'
import { withFileLock } from './lock.js'
import { machineHome } from './paths.js'

/**
 * Every project gets a block of loopback addresses of its own (127.A.B.0/24 on Linux, where
 * the whole of 127/8 answers without setup), and every service a stable host in it. The
 * allocation is machine-wide, so two projects never collide, and remembered across runs.
 */
interface Allocation {
  block: number
  services: Record<string, number>
}

type AllocationTable = Record<string, Allocation>

const FIRST_HOST = 2
const LAST_HOST = 254

function tableFile(): string {
  return path.join(machineHome(), 'addresses.json')
}

/** Loopback aliases beyond 127.0.0.1 work without setup on Linux only. */
export function ownAddressesSupported(): boolean {
  return process.platform === 'linux' && process.env.DEVENV_NO_OWN_ADDRESSES !== '1'
}

export function blockPrefix(block: number): string {
  return `127.${64 + Math.floor(block / 256)}.${block % 256}`
}

/** Address of each named service, allocating what is missing. */
export async function allocateAddresses(root: string, services: readonly string[]): Promise<Record<string, string>> {
  if (!ownAddressesSupported()) return Object.fromEntries(services.map((service) => [service, '127.0.0.1']))
  // Every start after the first finds its addresses there: the table is replaced whole by rename,
  // so a read without the lock sees one consistent table, and the lock (~5 ms) is for changes.
  const known = readAddresses(root)
  if (services.every((service) => known[service] !== undefined))
    return Object.fromEntries(services.map((service) => [service, known[service]!]))
  return withFileLock(tableFile(), () => {
    const table = readJson<AllocationTable>(tableFile()) ?? {}
    let allocation = table[root]
    if (!allocation) {
      const used = new Set(Object.values(table).map((entry) => entry.block))
      // Another machine-wide folder (DEVENV_HOME) may have handed out a block: skip blocks in use.
      const listening = listeningBlocks()
      let block = 1
      while (used.has(block) || listening.has(block)) block++
      allocation = { block, services: {} }
      table[root] = allocation
    }
    let changed = !table[root] || Object.keys(allocation.services).length === 0
    for (const service of services) {
      if (allocation.services[service] !== undefined) continue
      const taken = new Set(Object.values(allocation.services))
      let host = FIRST_HOST
      while (taken.has(host) && host <= LAST_HOST) host++
      if (host > LAST_HOST) throw new Error(`project ${root} has more than ${LAST_HOST - FIRST_HOST + 1} services`)
      allocation.services[service] = host
      changed = true
    }
    if (changed) writeJsonAtomic(tableFile(), table)
    return Object.fromEntries(
      services.map((service) => [service, `${blockPrefix(allocation.block)}.${allocation.services[service]}`]),
    )
  })
}

/** Blocks (127.64+.x) on which something listens now, from /proc/net/tcp. */
function listeningBlocks(): Set<number> {
  const blocks = new Set<number>()
  let table: string
  try {
    table = readFileSync('/proc/net/tcp', 'utf8')
  } catch {
    return blocks
  }
  for (const line of table.split('\n').slice(1)) {
    const local = line.trim().split(/\s+/)[1]
    if (!local) continue
    // little-endian hex: "0203407F:1F90" is 127.64.3.2
    const hex = local.split(':')[0]!
    const octets = [6, 4, 2, 0].map((offset) => Number.parseInt(hex.slice(offset, offset + 2), 16))
    if (octets[0] === 127 && octets[1]! >= 64) blocks.add((octets[1]! - 64) * 256 + octets[2]!)
  }
  return blocks
}

/** The addresses already allocated to a project, without taking the lock or allocating. */
export function readAddresses(root: string): Record<string, string> {
  if (!ownAddressesSupported()) return {}
  const allocation = (readJson<AllocationTable>(tableFile()) ?? {})[root]
  if (!allocation) return {}
  return Object.fromEntries(
    Object.entries(allocation.services).map(([service, host]) => [service, `${blockPrefix(allocation.block)}.${host}`]),
  )
}

/** Forgets a project's block (devenv destroy). */
export async function releaseAddresses(root: string): Promise<void> {
  await withFileLock(tableFile(), () => {
    const table = readJson<AllocationTable>(tableFile()) ?? {}
    if (!table[root]) return
    delete table[root]
    writeJsonAtomic(tableFile(), table)
  })
}
