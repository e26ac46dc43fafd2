/**
 * Preloaded into node-box services: answers dns.lookup for the project's hostnames
 * (DEVENV_HOSTS, a JSON map of hostname → address) so that `psql.example.test` resolves
 * inside the stack, as a container engine's DNS would, with or without the hosts file.
 */
import dns from 'node:dns'

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void

const hosts: Record<string, string> = (() => {
  try {
    return JSON.parse(process.env.DEVENV_HOSTS ?? '{}') as Record<string, string>
  } catch {
    return {}
  }
})()

if (Object.keys(hosts).length > 0) {
  const original = dns.lookup.bind(dns) as (...args: unknown[]) => void
  const patched = (hostname: string, options: unknown, callback?: unknown): void => {
    const address = typeof hostname === 'string' ? hosts[hostname.toLowerCase()] : undefined
    const done = (typeof options === 'function' ? options : callback) as LookupCallback
    if (!address) {
      original(hostname, options, callback)
      return
    }
    const all = typeof options === 'object' && options !== null && (options as dns.LookupOptions).all
    process.nextTick(() => (all ? done(null, [{ address, family: 4 }]) : done(null, address, 4)))
  }
  ;(dns as { lookup: unknown }).lookup = patched
  const originalPromise = dns.promises.lookup.bind(dns.promises)
  ;(dns.promises as { lookup: unknown }).lookup = async (hostname: string, options?: dns.LookupOptions) => {
    const address = hosts[hostname.toLowerCase()]
    if (!address) return originalPromise(hostname, options ?? {})
    return options?.all ? [{ address, family: 4 }] : { address, family: 4 }
  }
}
