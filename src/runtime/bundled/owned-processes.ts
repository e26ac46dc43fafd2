import { readdirSync, readFileSync } from 'node:fs'

/**
 * Every service process carries its project's identity in its environment, so a project's own
 * processes can be found again when nothing else says where they are (a dead supervisor and a
 * state file that cannot be read): recovery never depends on state.json alone.
 */
export const OWNER_VARIABLE = 'DEVENV_OWNER'

/** The marker a service of the project at `root` is started with. */
export function ownerMark(root: string): Record<string, string> {
  return { [OWNER_VARIABLE]: root }
}

/** Process-group leaders on this machine that carry the mark of the project at `root`. */
export function ownedProcessGroups(root: string): number[] {
  const needle = Buffer.from(`\0${OWNER_VARIABLE}=${root}\0`)
  const groups = new Set<number>()
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return []
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    const pid = Number(entry)
    if (pid === process.pid) continue
    try {
      const environ = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${pid}/environ`)])
      if (!environ.includes(needle)) continue
      // Field 5 of stat is the process group: the service's leader, whatever the process is.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      if (group > 1) groups.add(group)
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return [...groups]
}
