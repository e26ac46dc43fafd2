import { DevenvError } from '../../errors.js'
import type { UserNamespacePlan } from '../../util/user-namespace.js'

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
