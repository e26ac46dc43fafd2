import { DevenvError } from '../errors.js'
import { extractBlock, fromBytes, withBlock, withoutBlock, type BlockOwner, type HostsEntry } from './block.js'

/** A start marker as startMarker() writes it: the owner's name and folder. */
const START = /^# >>> devenv (\S+) \((.*)\) >>>\s*$/

/** Does the project at `root` run now? The runtime knows; the caller asks it and passes the answer in. */
export type IsRunning = (root: string) => boolean

/** The other projects with a block in `text` that run now, asked before the change (the sudo helper cannot ask the runtime). */
export function runningOwners(text: string, file: string, self: BlockOwner, isRunning: IsRunning): string[] {
  return listBlocks(text, file)
    .map((block) => block.owner.root)
    .filter((root) => root !== self.root && isRunning(root))
}

/** Every project's block in a hosts file (byte text), in file order. */
export function listBlocks(text: string, file: string): Array<{ owner: BlockOwner; entries: HostsEntry[] }> {
  const blocks: Array<{ owner: BlockOwner; entries: HostsEntry[] }> = []
  for (const line of text.split('\n')) {
    const match = START.exec(fromBytes(line.replace(/\r$/, '')))
    if (!match) continue
    const owner = { project: match[1]!, root: match[2]! }
    const block = extractBlock(text, owner, file)
    if (block) blocks.push({ owner, entries: block.entries })
  }
  return blocks
}

/**
 * The hosts file is the machine-wide record of which project answers at which name. A name
 * another project holds while it runs is refused, naming that project; one held by a project
 * that is not running (a block left by a crash, or written by `hosts apply` alone) is taken
 * over: it leaves the other block, so the name is mapped once, to this project.
 * Returns the text to put this project's block into, and the projects names were taken from.
 */
export function settleClaims(
  text: string,
  owner: BlockOwner,
  entries: readonly HostsEntry[],
  file: string,
  isRunning: IsRunning,
): { text: string; tookOver: string[] } {
  const wanted = new Set(entries.flatMap((entry) => entry.hostnames.map((name) => name.toLowerCase())))
  let result = text
  const tookOver: string[] = []
  for (const block of listBlocks(text, file)) {
    if (block.owner.root === owner.root) continue
    const shared = block.entries.flatMap((entry) => entry.hostnames).filter((name) => wanted.has(name.toLowerCase()))
    if (shared.length === 0) continue
    if (isRunning(block.owner.root)) {
      throw new DevenvError(
        'HOSTS',
        `hostname ${shared[0]} is held by project ${block.owner.project} (${block.owner.root}), which is running: two projects cannot answer at one name`,
        {
          ...(shared.length > 1 ? { details: [`also held: ${shared.slice(1).join(', ')}`] } : {}),
          hint: `Stop it first (devenv down in ${block.owner.root}), or give this project other hostnames. Nothing was changed.`,
        },
      )
    }
    const kept = block.entries
      .map((entry) => ({
        address: entry.address,
        hostnames: entry.hostnames.filter((name) => !wanted.has(name.toLowerCase())),
      }))
      .filter((entry) => entry.hostnames.length > 0)
    const eol = result.includes('\r\n') ? '\r\n' : '\n'
    result = kept.length > 0 ? withBlock(result, block.owner, kept, file, eol) : withoutBlock(result, block.owner, file)
    tookOver.push(`${shared.join(', ')} from ${block.owner.project} (${block.owner.root}, not running)`)
  }
  return { text: result, tookOver }
}
