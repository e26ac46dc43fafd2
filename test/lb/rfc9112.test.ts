import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exchange, LB_ADDRESS, startBackend, startBalancer, stopAll, type Backend, type Balancer } from './harness.js'

/**
 * Requests that RFC 9112 says how to treat and that the balancer used to get wrong, through real
 * sockets against the built lb and the backend fixture (node's HTTP server, which answers 400 to an
 * HTTP/1.1 request without Host, as RFC 9112 §3.2 says a server must). Each case is what nginx does
 * (docs/lb.md has the table).
 */

interface Reply {
  status: number
  headers: Map<string, string>
  body: string
}

/** Splits what came back into responses: each framed by Content-Length or chunked, or running to the end. */
function responses(text: string): Reply[] {
  const replies: Reply[] = []
  let rest = text
  while (rest.length) {
    const end = rest.indexOf('\r\n\r\n')
    if (end < 0) throw new Error(`an incomplete response head: ${JSON.stringify(rest.slice(0, 200))}`)
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n')
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine!)?.[1])
    const headers = new Map(
      lines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
    )
    rest = rest.slice(end + 4)
    let body = ''
    if (headers.get('transfer-encoding') === 'chunked') {
      for (;;) {
        const lineEnd = rest.indexOf('\r\n')
        const size = parseInt(rest.slice(0, lineEnd), 16)
        body += rest.slice(lineEnd + 2, lineEnd + 2 + size)
        rest = rest.slice(lineEnd + 2 + size + 2)
        if (size === 0) break
      }
    } else {
      const length = headers.has('content-length') ? Number(headers.get('content-length')) : rest.length
      body = rest.slice(0, length)
      rest = rest.slice(length)
    }
    replies.push({ status, headers, body })
  }
  return replies
}

/** What the backend fixture says it received. */
function seen(reply: Reply): { url: string; method: string; headers: Record<string, string> } {
  return JSON.parse(reply.body) as { url: string; method: string; headers: Record<string, string> }
}

describe('lb: requests as RFC 9112 (and nginx) would have them handled', () => {
  let backend: Backend
  let balancer: Balancer
  const send = (bytes: string, options?: { quietMs?: number; end?: boolean }): ReturnType<typeof exchange> =>
    exchange(LB_ADDRESS, balancer.httpPort, bytes, options)

  beforeAll(async () => {
    backend = await startBackend('www1')
    balancer = await startBalancer([backend], { hostnames: ['www.example.test', 'example.test'] })
  })
  afterAll(stopAll)

  it('forwards an HTTP/1.0 request without Host with the Host of the service, as nginx gives its server_name', async () => {
    const request = 'GET /ten HTTP/1.0\r\n\r\n'
    // straight to the backend an HTTP/1.0 request needs no Host
    const direct = responses((await exchange('127.0.0.1', backend.port, request)).text)
    expect(direct.map((reply) => reply.status)).toEqual([200])

    const { text, closedByServer } = await send(request)
    const [reply, ...more] = responses(text)
    expect(more).toEqual([])
    expect(reply!.status).toBe(200)
    expect(seen(reply!).url).toBe('/ten')
    expect(seen(reply!).headers.host).toBe('www.example.test')
    // no keep-alive was asked for: the connection ends after the answer
    expect(closedByServer).toBe(true)
  })

  it('answers the first of pipelined HTTP/1.0 requests and closes, as HTTP/1.0 without keep-alive asks', async () => {
    const { text, closedByServer } = await send('GET /first HTTP/1.0\r\n\r\nGET /second HTTP/1.0\r\n\r\n')
    const replies = responses(text)
    expect(replies.map((reply) => reply.status)).toEqual([200])
    expect(seen(replies[0]!).url).toBe('/first')
    expect(closedByServer).toBe(true)
  })

  it('answers pipelined HTTP/1.0 keep-alive requests in order, then closes after the one without keep-alive', async () => {
    // answers with a Content-Length (an HTTP/1.0 answer without one must end the connection)
    const keepAlive = 'Connection: keep-alive\r\n\r\n'
    const { text, closedByServer } = await send(
      `GET /health HTTP/1.0\r\n${keepAlive}GET /bench HTTP/1.0\r\n${keepAlive}GET /health HTTP/1.0\r\n\r\nGET /bench HTTP/1.0\r\n\r\n`,
    )
    const replies = responses(text)
    expect(replies.map((reply) => `${reply.status} ${reply.body}`)).toEqual([
      '200 ok',
      '200 hello from www1\n',
      '200 ok',
    ])
    expect(closedByServer).toBe(true)
  })

  it('refuses a request with two Host headers with 400, on either path, and forwards nothing', async () => {
    for (const request of [
      'GET /twice HTTP/1.1\r\nHost: www.example.test\r\nHost: evil.test\r\n\r\n',
      'GET /twice HTTP/1.1\r\nHost: www.example.test\r\nhost: www.example.test\r\n\r\n',
      'POST /twice HTTP/1.1\r\nHost: www.example.test\r\nHost: evil.test\r\nContent-Length: 2\r\n\r\nhi',
      'GET /twice HTTP/1.0\r\nHost: www.example.test\r\nHost: evil.test\r\n\r\n',
    ]) {
      const { text, closedByServer } = await send(request)
      const replies = responses(text)
      expect(
        replies.map((reply) => reply.status),
        request,
      ).toEqual([400])
      expect(replies[0]!.headers.has('x-devenv-backend')).toBe(false)
      expect(closedByServer).toBe(true)
    }
  })

  it('answers CONNECT with 405, as nginx does, instead of dropping the connection', async () => {
    const { text, closedByServer } = await send(
      'CONNECT www.example.test:443 HTTP/1.1\r\nHost: www.example.test:443\r\n\r\n',
    )
    const replies = responses(text)
    expect(replies.map((reply) => reply.status)).toEqual([405])
    expect(replies[0]!.body).toContain('CONNECT')
    expect(closedByServer).toBe(true)
  })

  it('lets the authority of an absolute-form target win over a Host that disagrees (RFC 9112 §3.2.2)', async () => {
    const { text } = await send(
      'GET http://www.example.test/absolute?q=1 HTTP/1.1\r\nHost: evil.test\r\nConnection: close\r\n\r\n',
    )
    const [reply] = responses(text)
    expect(reply!.status).toBe(200)
    const received = seen(reply!)
    expect(received.headers.host).toBe('www.example.test')
    expect(received.headers['x-forwarded-host']).toBe('www.example.test')
    // the backend gets the origin form, as nginx sends it
    expect(received.url).toBe('/absolute?q=1')

    const withPort = responses(
      (await send('GET http://example.test:8080/p HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n'))
        .text,
    )
    expect(seen(withPort[0]!).headers.host).toBe('example.test:8080')
    expect(seen(withPort[0]!).url).toBe('/p')
  })

  it('refuses an absolute-form target that is not http(s) or carries user information with 400', async () => {
    for (const target of ['ftp://www.example.test/x', 'http://user:pw@www.example.test/x', 'http:///x']) {
      const { text } = await send(`GET ${target} HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n`)
      expect(
        responses(text).map((reply) => reply.status),
        target,
      ).toEqual([400])
    }
  })

  it('refuses an HTTP/1.1 request without Host with 400 (RFC 9112 §3.2)', async () => {
    const { text } = await send('GET /nohost HTTP/1.1\r\n\r\n')
    expect(responses(text).map((reply) => reply.status)).toEqual([400])
  })

  it('still serves a plain HTTP/1.1 request after all this', async () => {
    const { text } = await send('GET /after HTTP/1.1\r\nHost: www.example.test\r\nConnection: close\r\n\r\n')
    const [reply] = responses(text)
    expect(reply!.status).toBe(200)
    expect(seen(reply!).headers.host).toBe('www.example.test')
  })
})
