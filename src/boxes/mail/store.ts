import { randomBytes } from 'node:crypto'
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { AddressObject, ParsedMail } from 'mailparser'
import { fsyncFolder, writeJsonAtomic } from '../../state/atomic.js'

/**
 * mailparser is loaded on the first message, not when the server starts: its import is the
 * larger part of the mail box's start-up time (about half a second on a loaded 2-core machine).
 */
async function simpleParser(source: Buffer): Promise<ParsedMail> {
  const { simpleParser: parse } = await import('mailparser')
  return parse(source)
}

/** What a listing shows of a message; kept beside the message as <id>.json so listing never parses mail. */
export interface MessageSummary {
  id: string
  /** The From header as written, or the envelope sender when there is none. */
  from: string
  /** Envelope recipients: where the message was actually delivered (Bcc included). */
  to: string[]
  subject: string
  /** The Date header, else when it was received; ISO 8601. */
  date: string
  receivedAt: string
  /** Bytes of the .eml. */
  size: number
}

export interface Envelope {
  from: string
  to: string[]
}

export interface ParsedMessage extends MessageSummary {
  headers: Record<string, string>
  text: string | null
  html: string | null
  attachments: { filename: string | null; contentType: string; size: number }[]
}

/** Message ids are decimal counters: short to type, and safe as file names. */
const ID = /^[1-9][0-9]{0,15}$/

export function isMessageId(id: string): boolean {
  return ID.test(id)
}

/**
 * The messages of one mail service, each kept whole as <id>.eml (written aside, fsynced, renamed)
 * with a small <id>.json summary. Summaries are also held in memory: listing is a map walk.
 * The folder is the source of truth: on open, a message whose summary is missing is parsed again.
 */
export class MessageStore {
  private readonly summaries = new Map<string, MessageSummary>()
  private lastId = 0

  constructor(readonly dir: string) {}

  async open(): Promise<void> {
    mkdirSync(this.dir, { recursive: true })
    for (const name of readdirSync(this.dir)) {
      // a message that was being received when the server stopped was never acknowledged
      if (name.endsWith('.tmp')) rmSync(path.join(this.dir, name), { force: true })
    }
    for (const name of readdirSync(this.dir)) {
      const id = name.slice(0, -'.eml'.length)
      if (!name.endsWith('.eml') || !isMessageId(id)) continue
      this.lastId = Math.max(this.lastId, Number(id))
      const summary = readSummary(this.summaryPath(id)) ?? (await this.rebuildSummary(id))
      this.summaries.set(id, summary)
    }
  }

  /**
   * Streams a message into the store. Bytes past `maxBytes` are read and dropped, so an oversized
   * message costs no disk; it is then not stored and `stored` is false.
   */
  async receive(stream: Readable, envelope: Envelope, maxBytes: number): Promise<{ stored: false } | { stored: true; summary: MessageSummary }> {
    const temporary = path.join(this.dir, `.incoming-${randomBytes(6).toString('hex')}.tmp`)
    let size = 0
    const limiter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length
        done(null, size <= maxBytes ? chunk : undefined)
      },
    })
    try {
      await pipeline(stream, limiter, createWriteStream(temporary, { mode: 0o644 }))
      if (size <= maxBytes) await fsyncFile(temporary)
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
    if (size > maxBytes) {
      await rm(temporary, { force: true })
      return { stored: false }
    }
    const id = String(++this.lastId)
    try {
      const summary = summarise(id, await simpleParser(readFileSync(temporary)), envelope, size, new Date())
      await rename(temporary, this.emlPath(id))
      fsyncFolder(this.dir)
      writeJsonAtomic(this.summaryPath(id), summary)
      this.summaries.set(id, summary)
      return { stored: true, summary }
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
  }

  /** Newest first; `to` matches an envelope recipient, case-insensitively. */
  list(filter: { to?: string } = {}): MessageSummary[] {
    const to = filter.to?.toLowerCase()
    return [...this.summaries.values()]
      .filter((summary) => !to || summary.to.some((recipient) => recipient.toLowerCase() === to))
      .sort((a, b) => Number(b.id) - Number(a.id))
  }

  get(id: string): MessageSummary | undefined {
    return this.summaries.get(id)
  }

  /** The .eml file of a stored message. */
  rawPath(id: string): string | undefined {
    return this.summaries.has(id) ? this.emlPath(id) : undefined
  }

  async parse(id: string): Promise<ParsedMessage | undefined> {
    const summary = this.summaries.get(id)
    if (!summary) return undefined
    const mail = await simpleParser(readFileSync(this.emlPath(id)))
    const headers: Record<string, string> = {}
    for (const line of mail.headerLines) {
      const value = line.line.slice(line.line.indexOf(':') + 1).trim()
      headers[line.key] = headers[line.key] === undefined ? value : `${headers[line.key]}\n${value}`
    }
    return {
      ...summary,
      headers,
      text: mail.text ?? null,
      html: typeof mail.html === 'string' ? mail.html : null,
      attachments: mail.attachments.map((attachment) => ({
        filename: attachment.filename ?? null,
        contentType: attachment.contentType,
        size: attachment.size,
      })),
    }
  }

  delete(id: string): boolean {
    if (!this.summaries.has(id)) return false
    // the summary goes first: a message without one is rebuilt on open, never listed without its file
    rmSync(this.summaryPath(id), { force: true })
    rmSync(this.emlPath(id), { force: true })
    this.summaries.delete(id)
    fsyncFolder(this.dir)
    return true
  }

  clear(): number {
    const ids = [...this.summaries.keys()]
    for (const id of ids) this.delete(id)
    return ids.length
  }

  private emlPath(id: string): string {
    return path.join(this.dir, `${id}.eml`)
  }

  private summaryPath(id: string): string {
    return path.join(this.dir, `${id}.json`)
  }

  private async rebuildSummary(id: string): Promise<MessageSummary> {
    const file = this.emlPath(id)
    const mail = await simpleParser(readFileSync(file))
    const recipients = [...addresses(mail.to), ...addresses(mail.cc), ...addresses(mail.bcc)]
    const summary = summarise(id, mail, { from: '', to: recipients }, statSync(file).size, statSync(file).mtime)
    writeJsonAtomic(this.summaryPath(id), summary)
    return summary
  }
}

function summarise(id: string, mail: ParsedMail, envelope: Envelope, size: number, receivedAt: Date): MessageSummary {
  const date = mail.date && !Number.isNaN(mail.date.getTime()) ? mail.date : receivedAt
  return {
    id,
    from: mail.from?.text || envelope.from,
    to: envelope.to,
    subject: mail.subject ?? '',
    date: date.toISOString(),
    receivedAt: receivedAt.toISOString(),
    size,
  }
}

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field]
  return list.flatMap((entry) => entry.value.map((address) => address.address ?? '').filter(Boolean))
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function readSummary(file: string): MessageSummary | undefined {
  try {
    const summary = JSON.parse(readFileSync(file, 'utf8')) as MessageSummary
    return typeof summary.id === 'string' && Array.isArray(summary.to) ? summary : undefined
  } catch {
    return undefined
  }
}
