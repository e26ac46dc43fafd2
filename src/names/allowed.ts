import path from 'node:path'
import { DevenvError } from '../errors.js'
import { readJson, writeJsonAtomic } from '../state/index.js'
import { withFileLock } from '../state/index.js'
import { machineHome } from '../state/index.js'
import { isNeverAllowed, isSpecialUse } from './policy.js'

/**
 * The names this machine's user has allowed envfiles to claim besides the special-use ones
 * (`devenv hosts allow NAME`). It lives in the machine home, never in a project: an envfile,
 * or anything cloned with it, cannot consent for the user.
 */
interface AllowedFile {
  hostnames: string[]
}

const NAME = /^(\*\.)?[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)+$/

export function allowedFile(home: string = machineHome()): string {
  return path.join(home, 'allowed-hostnames.json')
}

export function readAllowedHostnames(home?: string): string[] {
  const stored = readJson<AllowedFile>(allowedFile(home))
  return Array.isArray(stored?.hostnames)
    ? stored.hostnames.filter((name): name is string => typeof name === 'string' && NAME.test(name))
    : []
}

/** Adds (or with `allow: false` removes) a name; returns the list as it is afterwards. */
export async function changeAllowedHostname(
  hostname: string,
  allow: boolean,
  home?: string,
): Promise<{ hostnames: string[]; changed: boolean }> {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  if (allow) checkAllowable(name)
  const file = allowedFile(home)
  return withFileLock(file, () => {
    const current = readAllowedHostnames(home)
    const next = allow ? [...new Set([...current, name])].sort() : current.filter((entry) => entry !== name)
    const changed = next.length !== current.length
    if (changed) writeJsonAtomic(file, { hostnames: next } satisfies AllowedFile)
    return { hostnames: next, changed }
  })
}

function checkAllowable(name: string): void {
  if (isNeverAllowed(name)) {
    throw new DevenvError(
      'USAGE',
      `${name} cannot be allowed: mapping it away from this machine's own address would break the machine`,
      { hint: 'Use a name under .localhost instead, e.g. app.localhost.' },
    )
  }
  if (!NAME.test(name)) {
    throw new DevenvError('USAGE', `"${name}" is not a hostname (or *.domain) with at least two labels`, {
      hint: 'For example: devenv hosts allow app.mycompany.dev, or devenv hosts allow "*.mycompany.dev".',
    })
  }
  if (isSpecialUse(name))
    throw new DevenvError('USAGE', `${name} is a special-use name: it is always allowed, nothing to do`)
}
