import { lookup } from 'node:dns/promises'
import net from 'node:net'
import type { BackendConfig } from './config.js'
import type { HealthChecker } from './health.js'
import type { BackendPool } from './pool.js'

const RESOLVE_EVERY_MS = 2000

/**
 * A backend named by a DNS name with several addresses (Swarm's `dnsrr`, a Kubernetes headless
 * Service: the replicas of one service behind one name) is balanced per address: each becomes a
 * backend `name@address` with its own checks and connections, followed as replicas come and go.
 * Keep-alive connections would otherwise stay with whichever replica the first lookup chose.
 */
export function followReplicas(
  configs: BackendConfig[],
  pool: BackendPool,
  health: HealthChecker,
  log: (line: string) => void,
): () => void {
  const named = configs.filter((config) => net.isIP(config.address) === 0)
  const current = new Map<string, string>()
  const resolve = async (config: BackendConfig): Promise<void> => {
    let addresses: string[]
    try {
      addresses = (await lookup(config.address, { all: true, family: 4 })).map((entry) => entry.address).sort()
    } catch {
      return
    }
    const key = addresses.length > 1 ? addresses.join(',') : ''
    if ((current.get(config.name) ?? '') === key) return
    current.set(config.name, key)
    const instances =
      addresses.length > 1
        ? addresses.map((address) => ({ ...config, name: `${config.name}@${address}`, address, group: config.name }))
        : [config]
    for (const backend of pool.replace(config.name, instances)) health.watch(backend)
    if (addresses.length > 1) log(`backend ${config.name} resolves to ${addresses.length} addresses: balancing over each (${addresses.join(', ')})`)
  }
  const tick = (): void => void Promise.all(named.map(resolve))
  tick()
  const timer = setInterval(tick, RESOLVE_EVERY_MS)
  timer.unref()
  return () => clearInterval(timer)
}
