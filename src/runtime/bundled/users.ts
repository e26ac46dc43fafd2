import { execFileSync, spawnSync } from 'node:child_process'
import type { UnprivilegedUser } from '../../boxes/index.js'
import { DevenvError } from '../../errors.js'
import { hostCapability } from './host-capabilities.js'

export interface ServiceUser {
  uid: number
  gid: number
  user: string
}

/** `nobody` inside a user namespace of its own: exists in every passwd file, and is root outside. */
const NAMESPACE_WRAP = ['unshare', '--user', '--map-user=65534', '--map-group=65534', '--']

/**
 * How boxes that refuse root run when devenv is root: in a user namespace where they can (no
 * system user, every folder root reaches they reach, their files stay root's), else as a system user.
 */
export function unprivilegedRunner(): UnprivilegedUser {
  if (userNamespacesWork()) return { user: 'nobody (in a user namespace)', wrap: NAMESPACE_WRAP }
  return ensureServiceUser()
}

function userNamespacesWork(): boolean {
  if (process.env.DEVENV_NO_USER_NAMESPACE === '1') return false
  return hostCapability('user-namespaces-nobody', () => {
    const probe = spawnSync(NAMESPACE_WRAP[0]!, [...NAMESPACE_WRAP.slice(1), 'true'], {
      stdio: 'ignore',
      timeout: 5000,
    })
    return probe.status === 0
  })
}

export const SERVICE_USER = 'devenv'

/**
 * The unprivileged system user services run as when devenv runs as root (PostgreSQL refuses
 * to run as root). Created with `useradd --system` the first time it is needed.
 */
export function ensureServiceUser(name = SERVICE_USER): ServiceUser {
  const existing = lookupUser(name)
  if (existing) return existing
  try {
    execFileSync(
      'useradd',
      [
        '--system',
        '--no-create-home',
        '--home-dir',
        '/nonexistent',
        '--shell',
        '/usr/sbin/nologin',
        '--user-group',
        name,
      ],
      { stdio: 'pipe' },
    )
  } catch (error) {
    // Another devenv may have created it at the same moment.
    const raced = lookupUser(name)
    if (raced) return raced
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim()
    throw new DevenvError(
      'RUNTIME',
      `could not create the system user ${name} to run services as: ${stderr || (error as Error).message}`,
      {
        hint: `Create it yourself: useradd --system --user-group ${name}`,
        cause: error,
      },
    )
  }
  const created = lookupUser(name)
  if (!created) throw new DevenvError('RUNTIME', `useradd reported success but user ${name} is not there`)
  return created
}

function lookupUser(name: string): ServiceUser | undefined {
  try {
    const line = execFileSync('getent', ['passwd', name], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim()
    const fields = line.split(':')
    if (fields.length < 4) return undefined
    return { user: name, uid: Number(fields[2]), gid: Number(fields[3]) }
  } catch {
    return undefined
  }
}
