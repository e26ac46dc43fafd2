import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { realpathSync } from 'node:fs'
import { open } from 'node:fs/promises'
import { pipeline } from 'node:stream/promises'
import type { StaticServerConfig } from './config.js'
import { contentType } from './content-types.js'
import { isNotModified, requestedRange, type Validators } from './conditional.js'
import { resolveRequest } from './resolve.js'

export type RequestLog = (line: string) => void

/**
 * The static box's HTTP server. It reads every file from disk on every request (no cache of
 * contents) and tells browsers to revalidate, so an edit is served the moment it is saved; the
 * ETag makes that revalidation a cheap 304.
 */
export function createStaticServer(config: Pick<StaticServerConfig, 'root' | 'spa'>, log: RequestLog = () => {}): Server {
  const realRoot = realpathSync(config.root)
  const server = createServer((request, response) => {
    const started = performance.now()
    response.once('finish', () => {
      const pathname = (request.url ?? '').split(/[?#]/, 1)[0]
      const length = response.getHeader('content-length') ?? 0
      log(`${request.method} ${pathname} ${response.statusCode} ${length}b ${(performance.now() - started).toFixed(1)}ms`)
    })
    handle(realRoot, config.spa, request, response).catch((error: unknown) => {
      if (response.headersSent) return response.destroy(error as Error)
      const [status, title] = statusFor(error)
      sendPage(response, status, title, request.method === 'HEAD')
    })
  })
  return server
}

async function handle(realRoot: string, spa: boolean, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const head = request.method === 'HEAD'
  if (request.method !== 'GET' && !head) {
    response.setHeader('Allow', 'GET, HEAD')
    return sendPage(response, 405, 'Method Not Allowed', false)
  }
  const resolution = await resolveRequest(realRoot, request.url ?? '/')
  switch (resolution.kind) {
    case 'file':
      return sendFile(request, response, resolution.file, head)
    case 'redirect':
      response.setHeader('Location', resolution.location)
      return sendPage(response, 301, 'Moved Permanently', head)
    case 'bad-request':
      return sendPage(response, 400, 'Bad Request', head)
    case 'forbidden':
      return sendPage(response, 403, 'Forbidden', head)
    case 'missing': {
      if (spa) {
        const index = await resolveRequest(realRoot, '/index.html')
        if (index.kind === 'file') return sendFile(request, response, index.file, head)
      }
      return sendPage(response, 404, 'Not Found', head)
    }
  }
}

async function sendFile(request: IncomingMessage, response: ServerResponse, file: string, head: boolean): Promise<void> {
  // Open first, then describe what was opened: a save between the two cannot mismatch them.
  const handle = await open(file, 'r')
  let streaming = false
  try {
    const stats = await handle.stat({ bigint: true })
    const size = Number(stats.size)
    const validators: Validators = {
      etag: `"${stats.size.toString(36)}-${stats.mtimeNs.toString(36)}"`,
      modifiedSeconds: Number(stats.mtimeMs / 1000n),
    }
    response.setHeader('ETag', validators.etag)
    response.setHeader('Last-Modified', new Date(validators.modifiedSeconds * 1000).toUTCString())
    response.setHeader('Cache-Control', 'no-cache')
    response.setHeader('Accept-Ranges', 'bytes')
    if (isNotModified(request, validators)) {
      response.statusCode = 304
      response.end()
      return
    }
    response.setHeader('Content-Type', contentType(file))
    response.setHeader('X-Content-Type-Options', 'nosniff')
    const range = requestedRange(request, size, validators)
    if (range === 'unsatisfiable') {
      response.setHeader('Content-Range', `bytes */${size}`)
      return sendPage(response, 416, 'Range Not Satisfiable', head)
    }
    const start = range?.start ?? 0
    const end = range?.end ?? size - 1
    response.statusCode = range ? 206 : 200
    if (range) response.setHeader('Content-Range', `bytes ${start}-${end}/${size}`)
    response.setHeader('Content-Length', String(size === 0 ? 0 : end - start + 1))
    if (head || size === 0) {
      response.end()
      return
    }
    streaming = true
    await pipeline(handle.createReadStream({ start, end, autoClose: true }), response)
  } finally {
    if (!streaming) await handle.close()
  }
}

/** A file that vanished or became unreadable between lookup and open is not a server fault. */
function statusFor(error: unknown): [number, string] {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return [404, 'Not Found']
  if (code === 'EACCES' || code === 'EPERM') return [403, 'Forbidden']
  return [500, 'Internal Server Error']
}

function sendPage(response: ServerResponse, status: number, title: string, head: boolean): void {
  const body = `<!doctype html>\n<html><head><meta charset="utf-8"><title>${status} ${title}</title></head>` +
    `<body><h1>${status} ${title}</h1><p>devenv static</p></body></html>\n`
  response.statusCode = status
  response.setHeader('Content-Type', 'text/html; charset=utf-8')
  response.setHeader('Content-Length', Buffer.byteLength(body))
  response.setHeader('Cache-Control', 'no-store')
  response.end(head ? undefined : body)
}

