import type { EnvSpec } from '../../envfile/model.js'
import type { Endpoint } from '../driver.js'
import { DevenvError } from '../../errors.js'
import type { MessageSummary, ParsedMessage } from './store.js'
import { isMessageId } from './store.js'

export type { MessageSummary, ParsedMessage }

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

/** A client of a running mail service's JSON API. */
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

  async list(filter: { to?: string } = {}): Promise<MessageSummary[]> {
    const query = filter.to ? `?to=${encodeURIComponent(filter.to)}` : ''
    return (await this.request('GET', `/api/messages${query}`)).json() as Promise<MessageSummary[]>
  }

  async show(id: string): Promise<ParsedMessage> {
    return (await this.request('GET', `/api/messages/${checkId(id)}`)).json() as Promise<ParsedMessage>
  }

  /** The message whole, as received. */
  async raw(id: string): Promise<Buffer> {
    return Buffer.from(await (await this.request('GET', `/api/messages/${checkId(id)}/raw`)).arrayBuffer())
  }

  async delete(id: string): Promise<void> {
    await this.request('DELETE', `/api/messages/${checkId(id)}`)
  }

  /** Deletes every message; returns how many there were. */
  async clear(): Promise<number> {
    return ((await (await this.request('DELETE', '/api/messages')).json()) as { deleted: number }).deleted
  }

  private async request(method: string, pathname: string): Promise<Response> {
    const url = `${this.baseUrl}${pathname}`
    let response: Response
    try {
      response = await fetch(url, { method, signal: AbortSignal.timeout(10_000) })
    } catch (error) {
      throw new DevenvError('SERVICE_FAILED', `cannot reach the mail service ${this.service} at ${this.baseUrl}: ${reason(error)}`, {
        hint: `Check it with \`devenv status ${this.service}\` and its log with \`devenv logs ${this.service}\`.`,
        cause: error,
      })
    }
    if (response.status === 404) {
      const message = ((await response.json().catch(() => ({}))) as { error?: string }).error ?? `not found: ${pathname}`
      throw new DevenvError('NOT_FOUND', `mail service ${this.service}: ${message}`, { hint: 'List the messages with `devenv mail list`.' })
    }
    if (!response.ok) throw new DevenvError('SERVICE_FAILED', `mail service ${this.service} answered ${response.status} to ${method} ${pathname}`)
    return response
  }
}

function checkId(id: string): string {
  if (!isMessageId(id)) throw new DevenvError('USAGE', `"${id}" is not a message id (ids are numbers, as \`devenv mail list\` shows them)`)
  return id
}

function hostForUrl(address: string): string {
  return address.includes(':') ? `[${address}]` : address
}

function reason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause
  return cause?.code ?? cause?.message ?? (error as Error).message
}
