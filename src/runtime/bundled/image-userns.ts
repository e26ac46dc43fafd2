import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { userInfo } from 'node:os'
import path from 'node:path'
import { DevenvError } from '../../errors.js'

/**
 * How an image service runs without root: in a user namespace the user owns, where they are
 * root. With newuidmap/newgidmap (Debian's uidmap) and a subordinate range for the user in
 * /etc/subuid and /etc/subgid, ids 1..N inside are that range, so images whose files belong to
 * several users work (as rootless Podman does); without them, only root exists inside.
 */
export interface UserNamespacePlan {
  /** unshare's options that make the namespace (util-linux ≥ 2.38 calls newuidmap itself). */
  unshareArgs: string[]
  /** How many uids and gids exist inside, from 0: 1 when only the user is mapped. */
  uidCount: number
  gidCount: number
  /** Why only root exists inside, when it does (for the refusal of an image that needs more). */
  limitation?: { reason: string; fix: string }
}

interface Range {
  start: number
  count: number
}

/** The user's first range in /etc/subuid or /etc/subgid (by name or by number). */
function subordinateRange(file: string, user: string, id: number): Range | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':')
    if ((owner === user || owner === String(id)) && Number(count) > 0 && Number.isInteger(Number(start)))
      return { start: Number(start), count: Number(count) }
  }
  return undefined
}

function onPath(tool: string): boolean {
  const folders = [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/usr/sbin', '/bin', '/sbin']
  return folders.some((folder) => folder && existsSync(path.join(folder, tool)))
}

let usable: boolean | undefined

/** Can this user make a user namespace at all? (Some kernels or sysctls forbid it.) */
export function userNamespaceAllowed(): boolean {
  if (usable === undefined) {
    try {
      execFileSync('unshare', ['--user', '--map-root-user', '--mount', '--net', '--pid', '--fork', 'true'], {
        stdio: 'ignore',
        timeout: 5000,
      })
      usable = true
    } catch {
      usable = false
    }
  }
  return usable
}

/** The plan for this process's user; undefined when it is root (no user namespace is needed). */
export function userNamespacePlan(): UserNamespacePlan | undefined {
  const uid = process.getuid?.()
  if (uid === undefined || uid === 0) return undefined
  const name = userInfo().username
  const base = ['--map-root-user']
  if (!onPath('newuidmap') || !onPath('newgidmap'))
    return {
      unshareArgs: base,
      uidCount: 1,
      gidCount: 1,
      limitation: {
        reason: 'newuidmap and newgidmap are missing',
        fix: `apt-get install uidmap and give ${name} a range in /etc/subuid and /etc/subgid (e.g. "${name}:100000:65536")`,
      },
    }
  const uids = subordinateRange('/etc/subuid', name, uid)
  const gids = subordinateRange('/etc/subgid', name, process.getgid?.() ?? uid)
  if (!uids || !gids)
    return {
      unshareArgs: base,
      uidCount: 1,
      gidCount: 1,
      limitation: {
        reason: `user ${name} has no range in ${uids ? '/etc/subgid' : gids ? '/etc/subuid' : '/etc/subuid and /etc/subgid'}`,
        fix: `add the line "${name}:100000:65536" to /etc/subuid and /etc/subgid (as root)`,
      },
    }
  return {
    unshareArgs: [...base, `--map-users=${uids.start},1,${uids.count}`, `--map-groups=${gids.start},1,${gids.count}`],
    uidCount: uids.count + 1,
    gidCount: gids.count + 1,
  }
}

/** What ids an image needs inside: the owners of its files, and the user and group it runs as. */
export interface NeededIds {
  uids: number[]
  gids: number[]
}

/** Refuses, before anything starts, an image that needs ids the user namespace does not have. */
export function checkIdsFit(service: string, image: string, needed: NeededIds, plan: UserNamespacePlan): void {
  const uids = [...new Set(needed.uids.filter((id) => id >= plan.uidCount))]
  const gids = [...new Set(needed.gids.filter((id) => id >= plan.gidCount))]
  if (!uids.length && !gids.length) return
  const list = (label: string, ids: number[]): string[] =>
    ids.length ? [`${label} ${ids.sort((a, b) => a - b).join(', ')}`] : []
  const what = [...list(uids.length > 1 ? 'uids' : 'uid', uids), ...list(gids.length > 1 ? 'gids' : 'gid', gids)]
  // The fix is in the message itself: `up` shows a failed service's message, not its hint.
  const why = plan.limitation
    ? `without root only root exists in its user namespace, as ${plan.limitation.reason}; to run it, ${plan.limitation.fix}, or run devenv as root`
    : `its user namespace has uids 0-${plan.uidCount - 1} and gids 0-${plan.gidCount - 1}; give the user a larger range in /etc/subuid and /etc/subgid, or run devenv as root`
  throw new DevenvError(
    'RUNTIME',
    `service ${service}: image ${image} needs ${what.join(' and ')} (owners of its files or its User), and ${why}`,
  )
}
