import { isIPv4, isIPv6 } from 'node:net'

/**
 * `net.isIP`, except that a name without a colon (every hostname) is never matched against node's
 * IPv6 pattern: compiling that pattern takes 6-17 ms, once per process, which the supervisor paid
 * on every start while it issued the lb's certificate.
 */
export function ipVersion(name: string): 0 | 4 | 6 {
  if (isIPv4(name)) return 4
  return name.includes(':') && isIPv6(name) ? 6 : 0
}
