import { createHash } from 'node:crypto'
import http from 'node:http'
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exchange, LB_ADDRESS, startBalancer, stopAll, type Backend, type Balancer } from './harness.js'

/**
 * The fast relay's HTTP/1.1 framing against a backend that answers in every way the protocol
 * allows (and a few it does not), through real sockets: order of pipelined answers, chunked
 * bodies, bodiless answers, large bodies, bodies cut short, and connections kept in a sane state.
 */
const BIG = Buffer.alloc(5 * 1024 * 1024, 'abcdefghijklmnopqrstuvwxyz')
const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

function framingBackend(): http.Server {
  return http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://backend')
    const raw = (bytes: string): void => {
      // Answers node's server would not write: straight onto the socket, which is then done.
      response.socket!.end(bytes)
    }
    switch (url.pathname) {
      case '/health':
        return void response.end('ok')
      case '/slow':
        return void setTimeout(() => response.end(`slow ${request.method}`), Number(url.searchParams.get('ms') ?? 100))
      case '/chunked': {
        response.setHeader('Trailer', 'X-Checksum')
        response.write('one,')
        setTimeout(() => response.write('two,'), 20)
        setTimeout(() => {
          response.addTrailers({ 'X-Checksum': 'abc' })
          response.end('three')
        }, 40)
        return
      }
      case '/big':
        response.writeHead(200, { 'content-length': BIG.length })
        return void response.end(BIG)
      case '/big-chunked':
        for (let offset = 0; offset < BIG.length; offset += 300_000)
          response.write(BIG.subarray(offset, offset + 300_000))
        return void response.end()
      case '/length-on-head':
        response.writeHead(200, { 'content-length': 100, 'content-type': 'text/plain' })
        return void response.end(request.method === 'HEAD' ? undefined : 'x'.repeat(100))
      case '/204':
        response.writeHead(204, { 'x-empty': 'yes' })
        return void response.end()
      case '/304':
        response.writeHead(304, { etag: '"v1"' })
        return void response.end()
      case '/early-hints':
        response.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' })
        return void setTimeout(() => response.end('after hints'), 10)
      case '/until-close':
        return raw('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until the backend closes')
      case '/cut':
        response.writeHead(200, { 'content-length': 1000 })
        response.write('only ten b')
        return void setTimeout(() => response.socket!.destroy(), 20)
      case '/conflicting-length':
        return raw('HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!')
      case '/bad-chunks':
        return raw('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n')
      default: {
        let bytes = 0
        request.on('data', (chunk: Buffer) => (bytes += chunk.length))
        request.on('end', () => response.end(JSON.stringify({ method: request.method, url: request.url, bytes })))
      }
    }
  })
}

interface Exchange {
  status: number
  headers: http.IncomingHttpHeaders
  trailers: NodeJS.Dict<string>
  body: Buffer
}

/** One request over `agent` (keep-alive: the next request reuses the connection). */
function request(port: number, agent: http.Agent, urlPath: string, method = 'GET'): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: LB_ADDRESS, port, path: urlPath, method, agent }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () =>
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          trailers: response.trailers,
          body: Buffer.concat(chunks),
        }),
      )
      response.on('error', reject)
      response.on('aborted', () => reject(new Error('aborted')))
    })
    outgoing.on('error', reject)
    outgoing.end()
  })
}

/** Writes raw bytes on one connection and reads until the balancer closes it or goes quiet. */
function rawExchange(port: number, bytes: string, quietMs = 400): Promise<{ text: string; closedByServer: boolean }> {
  return exchange(LB_ADDRESS, port, bytes, { quietMs })
}

describe('lb relay: HTTP/1.1 framing', () => {
  const server = framingBackend()
  let balancer: Balancer
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as net.AddressInfo).port
    balancer = await startBalancer([{ name: 'framing', port } as Backend], { backendTimeoutMs: 2000 })
  })
  afterAll(async () => {
    agent.destroy()
    await stopAll()
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it('answers pipelined requests in order, whatever order the backends finish in', async () => {
    const { text } = await rawExchange(
      balancer.httpPort,
      'GET /slow?ms=200 HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /first-fast HTTP/1.1\r\nHost: a\r\n\r\n' +
        'HEAD /length-on-head HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /204 HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /last HTTP/1.1\r\nHost: a\r\n\r\n',
    )
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((match) => match[1])
    expect(statuses).toEqual(['200', '200', '200', '204', '200'])
    const slow = text.indexOf('slow GET')
    const fast = text.indexOf('"url":"/first-fast"')
    const last = text.indexOf('"url":"/last"')
    expect(slow).toBeGreaterThan(0)
    expect(fast).toBeGreaterThan(slow)
    expect(last).toBeGreaterThan(fast)
    // HEAD's Content-Length describes a body that is not sent: nothing but heads between the answers.
    expect(text.slice(text.indexOf('Content-Length: 100'), text.indexOf('HTTP/1.1 204'))).not.toMatch(/x{10}/)
  })

  it('passes chunked bodies and their trailers on, and keeps the connection usable', async () => {
    const chunked = await request(balancer.httpPort, agent, '/chunked')
    expect(chunked.body.toString()).toBe('one,two,three')
    expect(chunked.headers['transfer-encoding']).toBe('chunked')
    expect(chunked.trailers['x-checksum']).toBe('abc')
    expect(chunked.headers['x-devenv-backend']).toBe('framing')
    const after = await request(balancer.httpPort, agent, '/after-chunked')
    expect(JSON.parse(after.body.toString()).url).toBe('/after-chunked')
  })

  it('sends no body for HEAD, 204 and 304, and the next answer on the connection is intact', async () => {
    const head = await request(balancer.httpPort, agent, '/length-on-head', 'HEAD')
    expect(head.status).toBe(200)
    expect(head.headers['content-length']).toBe('100')
    expect(head.body.length).toBe(0)
    const empty = await request(balancer.httpPort, agent, '/204')
    expect(empty.status).toBe(204)
    expect(empty.headers['x-empty']).toBe('yes')
    const notModified = await request(balancer.httpPort, agent, '/304')
    expect(notModified.status).toBe(304)
    expect(notModified.headers.etag).toBe('"v1"')
    const get = await request(balancer.httpPort, agent, '/length-on-head')
    expect(get.body.toString()).toBe('x'.repeat(100))
  })

  it('relays large bodies whole, with a length and chunked', async () => {
    const big = await request(balancer.httpPort, agent, '/big')
    expect(big.body.length).toBe(BIG.length)
    expect(sha(big.body)).toBe(sha(BIG))
    const chunked = await request(balancer.httpPort, agent, '/big-chunked')
    expect(chunked.body.length).toBe(BIG.length)
    expect(sha(chunked.body)).toBe(sha(BIG))
  })

  it('passes interim 103 answers on before the final one', async () => {
    const { text } = await rawExchange(balancer.httpPort, 'GET /early-hints HTTP/1.1\r\nHost: a\r\n\r\n')
    expect(text).toMatch(/^HTTP\/1\.1 103 [^\r]*\r\nLink: <\/style\.css>; rel=preload; as=style\r\n\r\nHTTP\/1\.1 200 /)
    expect(text).toMatch(/after hints$/)
  })

  it('relays a body that ends when the backend closes, and then closes the client connection', async () => {
    const { text, closedByServer } = await rawExchange(
      balancer.httpPort,
      'GET /until-close HTTP/1.1\r\nHost: a\r\n\r\n',
      1000,
    )
    expect(text).toMatch(/\r\nConnection: close\r\n/)
    expect(text).toMatch(/\r\n\r\nbody until the backend closes$/)
    expect(closedByServer).toBe(true)
  })

  it('cuts the client off when the backend dies in the middle of a body, and keeps serving', async () => {
    await expect(request(balancer.httpPort, new http.Agent(), '/cut')).rejects.toThrow()
    const next = await request(balancer.httpPort, agent, '/after-cut')
    expect(next.status).toBe(200)
  })

  it('answers 502 for malformed backend answers', async () => {
    const conflicting = await request(balancer.httpPort, agent, '/conflicting-length')
    expect(conflicting.status).toBe(502)
    expect(conflicting.body.toString()).toMatch(/conflicting Content-Length/)
    await expect(request(balancer.httpPort, new http.Agent(), '/bad-chunks')).rejects.toThrow()
    expect((await request(balancer.httpPort, agent, '/fine')).status).toBe(200)
  })

  it('honours Connection: close from the client', async () => {
    const { text, closedByServer } = await rawExchange(
      balancer.httpPort,
      'GET /bye HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /never HTTP/1.1\r\nHost: a\r\n\r\n',
      1000,
    )
    expect(text).toMatch(/\r\nConnection: close\r\n/)
    expect(text).not.toMatch(/never/)
    expect(closedByServer).toBe(true)
  })

  it('hands a connection to the full HTTP server at its first request with a body, without losing what follows', async () => {
    const { text } = await rawExchange(
      balancer.httpPort,
      'GET /before HTTP/1.1\r\nHost: a\r\n\r\n' +
        'POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' +
        'PUT /sized HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nwxyz' +
        'GET /after HTTP/1.1\r\nHost: a\r\n\r\n',
    )
    const answers = [...text.matchAll(/\{[^}]*\}/g)].map(
      (match) => JSON.parse(match[0]) as { method: string; url: string; bytes: number },
    )
    expect(answers).toEqual([
      { method: 'GET', url: '/before', bytes: 0 },
      { method: 'POST', url: '/upload', bytes: 5 },
      { method: 'PUT', url: '/sized', bytes: 4 },
      { method: 'GET', url: '/after', bytes: 0 },
    ])
  })

  it('half-closed clients still get their answers', async () => {
    const socket = net.connect({ host: LB_ADDRESS, port: balancer.httpPort })
    let text = ''
    socket.on('data', (chunk) => (text += chunk.toString('latin1')))
    socket.end('GET /slow?ms=100 HTTP/1.1\r\nHost: a\r\n\r\nGET /second HTTP/1.1\r\nHost: a\r\n\r\n')
    await new Promise((resolve) => socket.on('close', resolve))
    expect(text).toMatch(/slow GET/)
    expect(text).toMatch(/"url":"\/second"/)
  })
})
