import { existsSync, mkdirSync, statSync } from 'node:fs'
import path from 'node:path'
import type { AttachmentInfo, MailClient } from './client.js'
import { DevenvError } from '../../errors.js'
import { writeFileAtomic } from '../../state/index.js'

export interface SavedAttachment extends AttachmentInfo {
  path: string
}

/**
 * Writes each attachment of a message into `folder` under its own name, made safe: a name is never
 * a path (no folder part, no control characters, no leading dot), and two of the same name in one
 * message are told apart by a number. A file already there of the same name is replaced.
 */
export async function saveAttachments(client: MailClient, id: string, attachments: AttachmentInfo[], folder: string): Promise<SavedAttachment[]> {
  const target = path.resolve(folder)
  if (existsSync(target) && !statSync(target).isDirectory()) {
    throw new DevenvError('USAGE', `--save-attachments ${folder}: ${target} is not a folder`, { hint: 'Name a folder (it is created if missing).' })
  }
  try {
    mkdirSync(target, { recursive: true })
  } catch (error) {
    throw new DevenvError('USAGE', `--save-attachments ${folder}: cannot create ${target}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  const taken = new Set<string>()
  const saved: SavedAttachment[] = []
  for (const attachment of attachments) {
    const name = uniqueName(safeName(attachment.filename, attachment.partId), taken)
    const file = path.join(target, name)
    writeFileAtomic(file, await client.part(id, attachment.partId))
    saved.push({ ...attachment, path: file })
  }
  return saved
}

export function safeName(filename: string, partId: string): string {
  const base = filename.split(/[/\\]/).pop() ?? ''
  const cleaned = base.replace(/[\u0000-\u001f\u007f]/g, '').replace(/^[.\s]+/, '').trim().slice(0, 200)
  return cleaned || `part-${partId.replace(/[^0-9.]/g, '')}`
}

function uniqueName(name: string, taken: Set<string>): string {
  const extension = path.extname(name)
  const stem = name.slice(0, name.length - extension.length)
  let candidate = name
  for (let number = 2; taken.has(candidate.toLowerCase()); number++) candidate = `${stem} (${number})${extension}`
  taken.add(candidate.toLowerCase())
  return candidate
}
