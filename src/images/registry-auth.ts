import { DevenvError } from '../errors.js'

/** One challenge of a WWW-Authenticate header: its scheme and parameters. */
export interface Challenge {
  scheme: string
  params: Record<string, string>
}

/** Parses `Bearer realm="https://auth",service="registry",scope="repository:x:pull"` (quoted or bare values). */
export function parseChallenge(header: string): Challenge | undefined {
  const match = /^\s*(\w+)\s*(.*)$/s.exec(header)
  if (!match) return undefined
  const params: Record<string, string> = {}
  const pairs = /(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g
  for (const pair of match[2]!.matchAll(pairs))
    params[pair[1]!.toLowerCase()] = (pair[2] ?? pair[3] ?? '').replace(/\\(.)/g, '$1')
  return { scheme: match[1]!.toLowerCase(), params }
}

/** Credentials for a registry: DEVENV_REGISTRY_AUTH=user:password (sent only to the registry and its token realm). */
export function registryCredentials(): string | undefined {
  const given = process.env.DEVENV_REGISTRY_AUTH
  return given && given.includes(':') ? Buffer.from(given).toString('base64') : undefined
}

/**
 * Asks the token realm of a Bearer challenge for a token (anonymously, or with the credentials
 * when there are some), as the distribution spec's token authentication describes.
 */
export async function fetchBearerToken(challenge: Challenge, registry: string, scope: string): Promise<string> {
  const realm = challenge.params.realm
  if (!realm)
    throw new DevenvError(
      'RUNTIME',
      `registry ${registry} asked for a token without saying where to get one (no realm)`,
    )
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw new DevenvError('RUNTIME', `registry ${registry} named an invalid token realm "${realm}"`)
  }
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
  url.searchParams.set('scope', challenge.params.scope ?? scope)
  const credentials = registryCredentials()
  let response: Response
  try {
    response = await fetch(url, { headers: credentials ? { authorization: `Basic ${credentials}` } : {} })
  } catch (error) {
    throw new DevenvError(
      'RUNTIME',
      `cannot reach the token service of ${registry} at ${url.origin}: ${(error as Error).message}`,
    )
  }
  if (!response.ok)
    throw new DevenvError('RUNTIME', `the token service of ${registry} refused access (HTTP ${response.status})`, {
      hint: credentials
        ? 'Check DEVENV_REGISTRY_AUTH.'
        : 'Set DEVENV_REGISTRY_AUTH=user:password if the image is private.',
    })
  const body = (await response.json().catch(() => ({}))) as { token?: string; access_token?: string }
  const token = body.token ?? body.access_token
  if (!token) throw new DevenvError('RUNTIME', `the token service of ${registry} answered without a token`)
  return token
}
