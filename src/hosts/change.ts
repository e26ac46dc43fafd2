import { readFileSync } from 'node:fs'
import { DevenvError } from '../errors.js'
import { extractBlock, withBlock, withoutBlock, type BlockOwner, type HostsEntry } from './block.js'
import { settleClaims } from './claims.js'
import { platformEol, withHostsLock } from './file.js'
import { errorCode, systemIo, writeHostsFile, type WriteIo, type WriteMethod } from './write.js'

/** One change to one hosts file: put the owner's block in (entries) or take it out (null). */
export interface HostsChange {
  file: string
  owner: BlockOwner
  entries: HostsEntry[] | null
  /** Roots of the other projects named in the file that ran when the change was asked for: their names are not taken over. */
  running?: string[]
}

export type ChangeOutcome =
  | { status: 'unchanged' }
  /** tookOver: names taken from the blocks of projects that are not running. */
  | { status: 'written'; method: WriteMethod; tookOver: string[] }
  /** The user may not write the file; nothing was changed. */
  | { status: 'denied'; reason: string }

const PERMISSION = new Set(['EACCES', 'EPERM'])

/** Reads the file as bytes (one char per byte); a missing file reads as empty. */
export function readHostsBytes(file: string): string {
  try {
    return readFileSync(file).toString('latin1')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return ''
    throw new DevenvError('HOSTS', `cannot read ${file}: ${(error as Error).message}`)
  }
}

/** Reads, changes and writes the file under its lock, so concurrent projects never lose a block. */
export async function changeHostsFile(change: HostsChange, io: WriteIo = systemIo): Promise<ChangeOutcome> {
  const { file, owner, entries } = change
  const isRunning = (root: string): boolean => change.running?.includes(root) ?? false
  return withHostsLock(file, () => {
    const before = readHostsBytes(file)
    let tookOver: string[] = []
    let after: string
    if (entries && entries.length > 0) {
      const settled = settleClaims(before, owner, entries, file, isRunning)
      tookOver = settled.tookOver
      after = withBlock(settled.text, owner, entries, file, platformEol())
    } else {
      after = withoutBlock(before, owner, file)
    }
    if (after === before) return { status: 'unchanged' } as const
    try {
      const method = writeHostsFile(file, Buffer.from(after, 'latin1'), Buffer.from(before, 'latin1'), io)
      return { status: 'written', method, tookOver } as const
    } catch (error) {
      if (PERMISSION.has(errorCode(error) ?? '')) return { status: 'denied', reason: (error as Error).message } as const
      throw new DevenvError('HOSTS', `cannot write ${file}: ${(error as Error).message}`, {
        hint: 'The file was left as it was.',
        cause: error,
      })
    }
  })
}

export function currentBlock(file: string, owner: BlockOwner): { text: string; entries: HostsEntry[] } | undefined {
  return extractBlock(readHostsBytes(file), owner, file)
}
