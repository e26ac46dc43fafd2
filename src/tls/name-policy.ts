import { ipVersion } from '../util/ip-address.js'
import { readAllowedHostnames } from '../names/index.js'
import { SPECIAL_USE_SUFFIXES } from '../names/index.js'

// What the local CA may sign for, without parsing any certificate: kept apart from
// name-constraints.ts (node-forge) so that reusing a certificate loads no forge.

/** The DNS subtrees the CA is made with now: special-use suffixes, localhost, and what this machine allows. */
export function wantedDnsSubtrees(home?: string): string[] {
  const allowed = readAllowedHostnames(home).map((name) => name.replace(/^\*\./, ''))
  return [...new Set([...SPECIAL_USE_SUFFIXES, 'localhost', ...allowed])].sort()
}

/** Whether a name (DNS or IP) falls within the CA's constraints, as a verifier checks it. */
export function isWithin(name: string, dnsSubtrees: readonly string[]): boolean {
  if (ipVersion(name) === 4) return name.startsWith('127.')
  if (ipVersion(name) !== 0) return false
  const host = name.toLowerCase().replace(/^\*\./, '')
  return dnsSubtrees.some((subtree) => host === subtree || host.endsWith(`.${subtree}`))
}
