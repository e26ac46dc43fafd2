import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { createWriteStream, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import path from 'node:path'
import { Transform, type Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { ParsedMail } from 'mailparser'
import { fsyncFolder, readJson, writeJsonAtomic } from '../../state/index.js'
import { summarise, SUMMARY_VERSION, type Envelope, type StoredSummary } from './summary.js'

/**
 * mailparser is loaded on the first message, not when the server starts: its import is the
 * larger part of the mail box's start-up time (about half a second on a loaded 2-core machine).
 */
export async function parseMail(source: Buffer): Promise<ParsedMail> {
  const { simpleParser } = await import('mailparser')
  return simpleParser(source)
}

export interface ParsedMessage {
  summary: StoredSummary
  mail: ParsedMail
  raw: Buffer
}

/** Message ids are decimal counters: short to type, and safe as file names. */
const ID = /^[1-9][0-9]{0,15}$/

export function isMessageId(id: string): boolean {
  return ID.test(id)
}

/** What the store tells a page watching it: a message came, went, or was read. */
export type StoreChange = { kind: 'received'; id: string } | { kind: 'deleted'; ids: string[] } | { kind: 'read'; ids: string[] }

/**
 * The messages of one mail service, each kept whole as <id>.eml (written aside, fsynced, renamed)
 * with a small <id>.json summary. Summaries are also held in memory: listing is a map walk.
 * The folder is the source of truth: on open, a message whose summary is missing is parsed again.
 * Every file is replaced by rename, never changed in place (file snapshots hard-link them).
 */
export class MessageStore extends EventEmitter<{ change: [StoreChange] }> {
  private readonly summaries = new Map<string, StoredSummary>()
  private lastId = 0
  /** Since the server started, for /api/v1/info. */
  readonly runtime = { accepted: 0, acceptedBytes: 0, rejected: 0, deleted: 0, startedAt: Date.now() }

  constructor(readonly dir: string) {
    super()
    // each open page listens (server-sent events); 100 connections is the server's limit anyway
    this.setMaxListeners(200)
  }

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
  async receive(stream: Readable, envelope: Envelope, maxBytes: number): Promise<{ stored: false } | { stored: true; summary: StoredSummary }> {
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
      this.runtime.rejected++
      return { stored: false }
    }
    const id = String(++this.lastId)
    try {
      const summary = summarise(id, await parseMail(readFileSync(temporary)), envelope, size, new Date())
      await rename(temporary, this.emlPath(id))
      fsyncFolder(this.dir)
      writeJsonAtomic(this.summaryPath(id), summary)
      this.summaries.set(id, summary)
      this.runtime.accepted++
      this.runtime.acceptedBytes += size
      this.emit('change', { kind: 'received', id })
      return { stored: true, summary }
    } catch (error) {
      await rm(temporary, { force: true })
      throw error
    }
  }

  /** Newest first. */
  list(): StoredSummary[] {
    return [...this.summaries.values()].sort((a, b) => Number(b.id) - Number(a.id))
  }

  get(id: string): StoredSummary | undefined {
    return this.summaries.get(id)
  }

  /** The newest message's id (Mailpit's `latest`). */
  latestId(): string | undefined {
    return this.list()[0]?.id
  }

  unreadCount(): number {
    let unread = 0
    for (const summary of this.summaries.values()) if (!summary.read) unread++
    return unread
  }

  /** Bytes the store holds on disk (Mailpit's DatabaseSize). */
  diskBytes(): number {
    let bytes = 0
    for (const summary of this.summaries.values()) bytes += summary.size
    return bytes
  }

  /** The .eml file of a stored message. */
  rawPath(id: string): string | undefined {
    return this.summaries.has(id) ? this.emlPath(id) : undefined
  }

  async parse(id: string): Promise<ParsedMessage | undefined> {
    const summary = this.summaries.get(id)
    if (!summary) return undefined
    const raw = readFileSync(this.emlPath(id))
    return { summary, mail: await parseMail(raw), raw }
  }

  /** Marks messages read or unread; ids that are not stored are skipped. Returns the ids changed. */
  setRead(ids: string[], read: boolean): string[] {
    const changed: string[] = []
    for (const id of ids) {
      const summary = this.summaries.get(id)
      if (!summary || summary.read === read) continue
      const updated = { ...summary, read }
      writeJsonAtomic(this.summaryPath(id), updated)
      this.summaries.set(id, updated)
      changed.push(id)
    }
    if (changed.length) this.emit('change', { kind: 'read', ids: changed })
    return changed
  }

  /** Deletes the messages named (all when none are); ids that are not stored are skipped. Returns how many went. */
  delete(ids: string[] = [...this.summaries.keys()]): number {
    const deleted: string[] = []
    for (const id of ids) {
      if (!this.summaries.has(id)) continue
      // the summary goes first: a message without one is rebuilt on open, never listed without its file
      rmSync(this.summaryPath(id), { force: true })
      rmSync(this.emlPath(id), { force: true })
      this.summaries.delete(id)
      deleted.push(id)
    }
    if (deleted.length) {
      fsyncFolder(this.dir)
      this.runtime.deleted += deleted.length
      this.emit('change', { kind: 'deleted', ids: deleted })
    }
    return deleted.length
  }

  private emlPath(id: string): string {
    return path.join(this.dir, `${id}.eml`)
  }

  private summaryPath(id: string): string {
    return path.join(this.dir, `${id}.json`)
  }

  /**
   * For a message whose summary is lost or from an older devenv. The envelope and the time of
   * arrival are not in the .eml: an older summary keeps them, else the header recipients and the
   * file's time stand in.
   */
  private async rebuildSummary(id: string): Promise<StoredSummary> {
    const file = this.emlPath(id)
    const mail = await parseMail(readFileSync(file))
    const older = readJson<{ to?: unknown; receivedAt?: unknown; read?: unknown }>(this.summaryPath(id))
    const headerRecipients = [mail.to, mail.cc, mail.bcc]
      .flatMap((field) => (field === undefined ? [] : Array.isArray(field) ? field : [field]))
      .flatMap((entry) => entry.value.map((address) => address.address ?? '').filter(Boolean))
    const envelopeTo = Array.isArray(older?.to) && older.to.every((entry) => typeof entry === 'string') ? (older.to as string[]) : headerRecipients
    const receivedAt = typeof older?.receivedAt === 'string' && !Number.isNaN(Date.parse(older.receivedAt)) ? new Date(older.receivedAt) : statSync(file).mtime
    const summary = { ...summarise(id, mail, { from: '', to: envelopeTo }, statSync(file).size, receivedAt), read: older?.read === true }
    writeJsonAtomic(this.summaryPath(id), summary)
    return summary
  }
}

async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r+')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function readSummary(file: string): StoredSummary | undefined {
  const summary = readJson<StoredSummary>(file)
  return summary?.version === SUMMARY_VERSION && typeof summary.id === 'string' && Array.isArray(summary.to) ? summary : undefined
}
