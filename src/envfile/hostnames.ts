import { DevenvError } from '../errors.js'
import { judgeDomain, judgeHostname, SPECIAL_USE_SUFFIXES, type HostnameVerdict } from '../names/index.js'
import type { EnvSpec } from './model.js'
import type { EnvfileSource } from './source.js'

const SPECIAL = SPECIAL_USE_SUFFIXES.map((suffix) => `.${suffix}`).join(', ')

/**
 * Refuses hostnames (and a `domain:`) that would let this envfile take over a name for the
 * whole machine: the hosts file points it at the project, the local CA signs for it. Names
 * under the special-use suffixes always pass; others only with this machine's consent.
 */
export function checkHostnames(spec: EnvSpec, source: EnvfileSource, allowed: readonly string[]): void {
  if (spec.domain !== undefined) refuse(judgeDomain(spec.domain, allowed), spec.domain, ['domain'], `*.${spec.domain}`)
  for (const service of Object.values(spec.services)) {
    service.hostnames.forEach((hostname, index) => {
      // <service>.<domain> was judged with the domain
      if (spec.domain !== undefined && hostname === `${service.name}.${spec.domain}`) return
      refuse(judgeHostname(hostname, allowed), hostname, ['services', service.name, 'hostnames', index], hostname)
    })
  }

  function refuse(verdict: HostnameVerdict, name: string, at: Array<string | number>, allowWith: string): void {
    if (verdict.ok) return
    const location = source.locate(at)
    const what = at[0] === 'domain' ? `domain ${name}` : `hostname ${name}`
    if (verdict.reason === 'never') {
      throw new DevenvError(
        'ENVFILE_INVALID',
        `${what} is refused: it names this machine itself, and devenv would point it elsewhere for every program on it`,
        {
          location,
          hint: `Use a name of your own under ${SPECIAL}, e.g. app.localhost.`,
        },
      )
    }
    throw new DevenvError(
      'ENVFILE_INVALID',
      `${what} is not a special-use name: devenv would point it at this project for every program on this machine (hosts file) and its local CA would vouch for it`,
      {
        location,
        hint: `Use a name under ${SPECIAL} (e.g. ${suggest(name)}); or, if this machine's user means it, allow it here (not in the envfile): devenv hosts allow ${allowWith.includes('*') ? `"${allowWith}"` : allowWith}`,
      },
    )
  }
}

function suggest(name: string): string {
  const labels = name.split('.')
  return `${labels.length > 1 ? labels.slice(0, -1).join('.') : name}.test`
}
