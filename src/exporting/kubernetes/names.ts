import type { EnvSpec } from '../../envfile/index.js'
import { groupName } from '../../spec/index.js'

/**
 * Kubernetes resolves a Service by its name, never by the envfile's hostnames (psql.example.test),
 * and a Service name cannot hold dots: the hostnames in env and commands are rewritten to the
 * Service that answers them (kompose leaves them, and they do not resolve: kubernetes/kompose#1154).
 */
export function hostnameRewriter(spec: EnvSpec): (text: string) => string {
  const targets = new Map<string, string>()
  for (const service of Object.values(spec.services)) {
    for (const hostname of service.hostnames) targets.set(hostname, groupName(spec, service.name))
  }
  if (targets.size === 0) return (text) => text
  // Longest first, and never inside a longer name: example.test is not rewritten in www.example.test.
  const names = [...targets.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp)
  const pattern = new RegExp(`(?<![A-Za-z0-9.-])(${names.join('|')})(?![A-Za-z0-9-]|\\.[A-Za-z0-9])`, 'gi')
  return (text) => text.replace(pattern, (hostname) => targets.get(hostname.toLowerCase()) ?? hostname)
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
