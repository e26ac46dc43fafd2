import type { EnvSpec } from '../../envfile/index.js'
import type { Endpoint } from '../driver.js'
import { DevenvError } from '../../errors.js'
import type { MailpitAttachment, MailpitMessage, MailpitMessagesSummary, MailpitMessageSummary } from './mailpit.js'
import { isMessageId } from './store.js'
import { formatAddress, type MailAddress } from './summary.js'

/** A message as `devenv mail list --json` prints it: one line of a listing. */
export interface MessageSummary {
  id: string
  from: string
  /** Every recipient: To, Cc and Bcc (Bcc holds the envelope recipients no header names). */
  to: string[]
  subject: string
  /** When it was received; ISO 8601. */
  date: string
  size: number
  read: boolean
  attachments: number
  snippet: string
}

export interface AttachmentInfo {
  partId: string
  filename: string
  contentType: string
  size: number
}

/** A message as `devenv mail show --json` prints it. */
export interface ParsedMessage extends Omit<MessageSummary, 'attachments' | 'snippet' | 'read'> {
  messageId: string
  cc: string[]
  bcc: string[]
  replyTo: string[]
  headers: Record<string, string[]>
  text: string | null
  html: string | null
  attachments: AttachmentInfo[]
  inline: AttachmentInfo[]
}

/** The mail service a command talks to: the one named, else the first mail service of the envfile. */
export function findMailService(spec: EnvSpec, name?: string): string {
  if (name) {
    const service = spec.services[name]
    if (!service) throw new DevenvError('USAGE', `no service named ${name} in ${spec.file}`, { hint: `Mail services: ${mailServices(spec).join(', ') || 'none'}.` })
    if (service.kind !== 'mail') throw new DevenvError('USAGE', `service ${name} is a ${service.kind} box, not a mail box`, { hint: `Mail services: ${mailServices(spec).join(', ') || 'none'}.` })
    return name
  }
  const first = mailServices(spec)[0]
  if (!first) throw new DevenvError('NOT_FOUND', `${spec.file} declares no mail service`, { hint: 'Add one: `mail: { box: mail, accounts: [you@example.test] }`.' })
  return first
}

function mailServices(spec: EnvSpec): string[] {
  return Object.values(spec.services)
    .filter((service) => service.kind === 'mail')
    .map((service) => service.name)
}

/** Listing pages this long are fetched until the whole inbox is read. */
const PAGE = 500

/** A client of a running mail service, through the Mailpit API v1 it serves. */
export class MailClient {
  constructor(
    readonly baseUrl: string,
    private readonly service = 'mail',
  ) {}

  /** For the running mail service of a project, at the endpoint its runtime gives. */
  static async forService(spec: EnvSpec, name: string | undefined, endpointOf: (service: string) => Promise<Endpoint>): Promise<MailClient> {
    const service = findMailService(spec, name)
    const settings = spec.services[service]!.mail!
    const endpoint = await endpointOf(service)
    return new MailClient(`http://${hostForUrl(endpoint.address)}:${endpoint.port(settings.webPort)}`, service)
  }

  /**
   * Newest first. `search` is a Mailpit search (from:, to:, subject:, is:unread, words);
   * `to` keeps the messages delivered to that address exactly (Bcc included), case-insensitively.
   */
  async list(filter: { to?: string; search?: string } = {}): Promise<MessageSummary[]> {
    const query = [filter.search?.trim(), filter.to ? `addressed:"${filter.to}"` : ''].filter(Boolean).join(' ')
    const found: MailpitMessageSummary[] = []
    for (let start = 0; ; start += PAGE) {
      const path = query ? `/api/v1/search?query=${encodeURIComponent(query)}&start=${start}&limit=${PAGE}` : `/api/v1/messages?start=${start}&limit=${PAGE}`
      const page = (await (await this.request('GET', path)).json()) as MailpitMessagesSummary
      found.push(...page.messages)
      if (page.messages.length < PAGE) break
    }
    const to = filter.to?.toLowerCase()
    return found.map(listing).filter((summary) => !to || summary.to.some((recipient) => recipient.toLowerCase() === to))
  }

  /** One message, parsed (it is then marked read, as Mailpit does); `latest` is the newest. */
  async show(id: string): Promise<ParsedMessage> {
    const message = (await (await this.request('GET', `/api/v1/message/${checkId(id)}`)).json()) as MailpitMessage
    const headers = (await (await this.request('GET', `/api/v1/message/${message.ID}/headers`)).json()) as Record<string, string[]>
    return parsed(message, headers)
  }

  /** The message whole, as received. */
  async raw(id: string): Promise<Buffer> {
    return Buffer.from(await (await this.request('GET', `/api/v1/message/${checkId(id)}/raw`)).arrayBuffer())
  }

  /** An attachment's bytes, decoded. */
  async part(id: string, partId: string): Promise<Buffer> {
    return Buffer.from(await (await this.request('GET', `/api/v1/message/${checkId(id)}/part/${encodeURIComponent(partId)}`)).arrayBuffer())
  }

  async delete(id: string): Promise<void> {
    await this.request('DELETE', '/api/v1/messages', { IDs: [checkId(id)] })
  }

  /** Deletes every message; returns how many there were. */
  async clear(): Promise<number> {
    const { total } = (await (await this.request('GET', '/api/v1/messages?limit=1')).json()) as MailpitMessagesSummary
    await this.request('DELETE', '/api/v1/messages')
    return total
  }

  private async request(method: string, pathname: string, body?: unknown): Promise<Response> {
    const url = `${this.baseUrl}${pathname}`
    let response: Response
    try {
      response = await fetch(url, {
        method,
        signal: AbortSignal.timeout(10_000),
        ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
      })
    } catch (error) {
      throw new DevenvError('SERVICE_FAILED', `cannot reach the mail service ${this.service} at ${this.baseUrl}: ${reason(error)}`, {
        hint: `Check it with \`devenv status ${this.service}\` and its log with \`devenv logs ${this.service}\`.`,
        cause: error,
      })
    }
    if (response.status === 404) {
      const what = /^\/api\/v1\/message\/([^/]+)/.exec(pathname)?.[1]
      throw new DevenvError('NOT_FOUND', `mail service ${this.service}: ${what === 'latest' ? 'there are no messages' : what ? `no message ${what}` : `not found: ${pathname}`}`, {
        hint: 'List the messages with `devenv mail list`.',
      })
    }
    if (response.status === 400) throw new DevenvError('USAGE', `mail service ${this.service} refused ${method} ${pathname}: ${(await response.text()).trim()}`)
    if (!response.ok) throw new DevenvError('SERVICE_FAILED', `mail service ${this.service} answered ${response.status} to ${method} ${pathname}`)
    return response
  }
}

function listing(summary: MailpitMessageSummary): MessageSummary {
  return {
    id: summary.ID,
    from: formatAddress(summary.From),
    to: [...summary.To, ...summary.Cc, ...summary.Bcc].map(addressOnly),
    subject: summary.Subject,
    date: summary.Created,
    size: summary.Size,
    read: summary.Read,
    attachments: summary.Attachments,
    snippet: summary.Snippet,
  }
}

function parsed(message: MailpitMessage, headers: Record<string, string[]>): ParsedMessage {
  const part = (attachment: MailpitAttachment): AttachmentInfo => ({ partId: attachment.PartID, filename: attachment.FileName, contentType: attachment.ContentType, size: attachment.Size })
  return {
    id: message.ID,
    messageId: message.MessageID,
    from: formatAddress(message.From),
    to: message.To.map(formatAddress),
    cc: message.Cc.map(formatAddress),
    bcc: message.Bcc.map(formatAddress),
    replyTo: message.ReplyTo.map(formatAddress),
    subject: message.Subject,
    date: message.Date,
    size: message.Size,
    headers,
    text: message.Text || null,
    html: message.HTML || null,
    attachments: message.Attachments.map(part),
    inline: message.Inline.map(part),
  }
}

function addressOnly(address: MailAddress): string {
  return address.Address || address.Name
}

function checkId(id: string): string {
  if (id !== 'latest' && !isMessageId(id)) throw new DevenvError('USAGE', `"${id}" is not a message id (ids are numbers, as \`devenv mail list\` shows them, or latest)`)
  return id
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
