import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { userInfo } from 'node:os'
import path from 'node:path'

/**
 * How devenv works without root where ids other than the user's are needed (image services): in
 * a user namespace the user owns, where they are root. With newuidmap/newgidmap (Debian's uidmap)
 * and a subordinate range for the user in /etc/subuid and /etc/subgid, ids 1..N inside are that
 * range, so images whose files belong to several users work (as rootless Podman does); without
 * them, only root exists inside.
 */
export interface UserNamespacePlan {
  /** unshare's options that make the namespace (util-linux ≥ 2.38 calls newuidmap itself). */
  unshareArgs: string[]
  /** How many uids and gids exist inside, from 0: 1 when only the user is mapped. */
  uidCount: number
  gidCount: number
  /** Why only root exists inside, when it does (for the refusal of an image that needs more). */
  limitation?: { reason: string; fix: string }
  /** Outside id → inside id (files read from outside: a writable layer committed as a layer). */
  insideUid(outside: number): number
  insideGid(outside: number): number
}

const OVERFLOW_ID = 65_534

function mapper(own: number, range: Range | undefined): (outside: number) => number {
  return (outside) =>
    outside === own
      ? 0
      : range && outside >= range.start && outside < range.start + range.count
        ? outside - range.start + 1
        : OVERFLOW_ID
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

/** The user's name, for /etc/subuid; a uid without a passwd entry (a container's) goes by its number. */
function userName(uid: number): string {
  try {
    return userInfo().username
  } catch {
    return String(uid)
  }
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
  const name = userName(uid)
  const gid = process.getgid?.() ?? uid
  const base = ['--map-root-user']
  // Only the user, as root inside: what works without newuidmap or a subordinate range, and why not more.
  const onlyRoot = (reason: string, fix: string) => ({
    unshareArgs: base,
    uidCount: 1,
    gidCount: 1,
    insideUid: mapper(uid, undefined),
    insideGid: mapper(gid, undefined),
    limitation: { reason, fix },
  })
  if (!onPath('newuidmap') || !onPath('newgidmap'))
    return onlyRoot(
      'newuidmap and newgidmap are missing',
      `apt-get install uidmap and give ${name} a range in /etc/subuid and /etc/subgid (e.g. "${name}:100000:65536")`,
    )
  const uids = subordinateRange('/etc/subuid', name, uid)
  const gids = subordinateRange('/etc/subgid', name, gid)
  if (!uids || !gids)
    return onlyRoot(
      `user ${name} has no range in ${uids ? '/etc/subgid' : gids ? '/etc/subuid' : '/etc/subuid and /etc/subgid'}`,
      `add the line "${name}:100000:65536" to /etc/subuid and /etc/subgid (as root)`,
    )
  return {
    unshareArgs: [...base, `--map-users=${uids.start},1,${uids.count}`, `--map-groups=${gids.start},1,${gids.count}`],
    uidCount: uids.count + 1,
    gidCount: gids.count + 1,
    insideUid: mapper(uid, uids),
    insideGid: mapper(gid, gids),
  }
}

/**
 * Removes a folder even when it holds files of the user namespace's other ids (an image's files,
 * a service's writable layer), which the user cannot remove from outside it: then from inside.
 */
export function removeTreeAnyOwner(folder: string): void {
  try {
    rmSync(folder, { recursive: true, force: true })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const plan = code === 'EACCES' || code === 'EPERM' ? userNamespacePlan() : undefined
    if (!plan || plan.limitation) throw error
    execFileSync('unshare', [...plan.unshareArgs, '--', 'rm', '-rf', '--', folder], { stdio: 'ignore' })
  }
}
