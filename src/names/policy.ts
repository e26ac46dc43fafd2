/**
 * Which hostnames a devenv.yaml may claim. The hosts file is machine-wide and `devenv tls trust`
 * makes the local CA trusted machine-wide, so a name in an envfile (perhaps a cloned
 * repository's) redirects and vouches for that name for every program on the machine. By
 * default only names the DNS will never give to anyone are accepted (RFC 6761, 2606, 8375, and
 * ICANN's .internal); anything else needs this machine's user's consent (allowed.ts).
 */
export const SPECIAL_USE_SUFFIXES = ['test', 'example', 'invalid', 'localhost', 'internal', 'home.arpa'] as const

/** Mapping these elsewhere would break the machine itself, whatever anyone consents to. */
const NEVER = new Set(['localhost', 'localhost.localdomain', 'ip6-localhost', 'ip6-loopback', 'broadcasthost'])

/** Strictly under a special-use name (www.shop.test); the bare suffix (test) is a top-level domain, not a host. */
export function isSpecialUse(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return SPECIAL_USE_SUFFIXES.some((suffix) => name.endsWith(`.${suffix}`))
}

export function isNeverAllowed(hostname: string): boolean {
  return NEVER.has(hostname.toLowerCase().replace(/\.$/, ''))
}

/** A `domain:` gives every service `<service>.<domain>`: special-use when it is a suffix or under one. */
export function isSpecialUseDomain(domain: string): boolean {
  const name = domain.toLowerCase().replace(/\.$/, '')
  return (SPECIAL_USE_SUFFIXES as readonly string[]).includes(name) || isSpecialUse(name)
}

/** An allowed entry permits that name; `*.name` permits every name under it. */
export function isPermittedBy(hostname: string, allowed: readonly string[]): boolean {
  const name = hostname.toLowerCase()
  return allowed.some((entry) => entry === name || (entry.startsWith('*.') && name.endsWith(entry.slice(1))))
}

export type HostnameVerdict = { ok: true } | { ok: false; reason: 'never' | 'public' }

export function judgeHostname(hostname: string, allowed: readonly string[]): HostnameVerdict {
  if (isNeverAllowed(hostname)) return { ok: false, reason: 'never' }
  if (isSpecialUse(hostname) || isPermittedBy(hostname, allowed)) return { ok: true }
  return { ok: false, reason: 'public' }
}

export function judgeDomain(domain: string, allowed: readonly string[]): HostnameVerdict {
  if (isNeverAllowed(domain)) return { ok: false, reason: 'never' }
  if (isSpecialUseDomain(domain) || isPermittedBy(`*.${domain.toLowerCase()}`, allowed)) return { ok: true }
  return { ok: false, reason: 'public' }
}
