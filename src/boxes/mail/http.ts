import type { IncomingMessage, ServerResponse } from 'node:http'

/** What every answer of the mail box carries: nothing it serves may be framed by another site or sniffed. */
const COMMON = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' }

export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json; charset=utf-8', JSON.stringify(body))
}

/** Mailpit answers errors and "ok" as plain text. */
export function sendText(response: ServerResponse, status: number, body: string): void {
  send(response, status, 'text/plain; charset=utf-8', body)
}

export function send(response: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  response.writeHead(status, {
    ...COMMON,
    'content-type': contentType,
    'content-length': String(Buffer.byteLength(body)),
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    ...headers,
  })
  response.end(body)
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** For 405: the methods the path takes. */
    readonly allow?: string[],
  ) {
    super(message)
  }
}

const MAX_BODY_BYTES = 1024 * 1024

/** A JSON request body; none at all is `undefined`. Over a megabyte or not JSON: 400. */
export async function readJsonBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > MAX_BODY_BYTES) throw new HttpError(400, 'request body over 1 MB')
    chunks.push(chunk)
  }
  const text = Buffer.concat(chunks).toString('utf8').trim()
  if (!text) return undefined
  try {
    return JSON.parse(text) as unknown
  } catch (error) {
    throw new HttpError(400, `request body is not JSON: ${(error as Error).message}`)
  }
}

/** `?start=` and `?limit=` as Mailpit reads them: defaults 0 and 50, a bad number ignored; limit 0 means all. */
export function startLimit(url: URL): { start: number; limit: number } {
  const start = Number.parseInt(url.searchParams.get('start') ?? '', 10)
  const limit = Number.parseInt(url.searchParams.get('limit') ?? '', 10)
  return { start: start > 0 ? start : 0, limit: limit > 0 ? limit : limit === 0 ? Number.MAX_SAFE_INTEGER : 50 }
}
