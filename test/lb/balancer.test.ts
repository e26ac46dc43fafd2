import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { eventually, get, sleep, startBackend, startBalancer, stopAll, type Backend, type Balancer } from './harness.js'

describe('lb: balancing over real backends', () => {
  let one: Backend
  let two: Backend
  let balancer: Balancer

  beforeAll(async () => {
    ;[one, two] = await Promise.all([startBackend('www1'), startBackend('www2')])
    balancer = await startBalancer([one, two])
  })
  afterAll(stopAll)

  it('alternates between backends and names the one that answered', async () => {
    const seen: string[] = []
    for (let index = 0; index < 6; index++) {
      const answer = await get(balancer.httpPort)
      expect(answer.status).toBe(200)
      expect(answer.headers['x-devenv-backend']).toBe(JSON.parse(answer.body).name)
      seen.push(answer.headers['x-devenv-backend'] as string)
    }
    expect(new Set(seen)).toEqual(new Set(['www1', 'www2']))
    for (let index = 1; index < seen.length; index++) expect(seen[index]).not.toBe(seen[index - 1])
  })

  it('sets X-Forwarded-For, -Proto, -Host and keeps the Host header', async () => {
    const answer = await get(balancer.httpPort, '/where?x=1', {
      headers: { host: 'www.example.test', 'x-forwarded-for': '203.0.113.9' },
    })
    const seen = JSON.parse(answer.body)
    expect(seen.url).toBe('/where?x=1')
    expect(seen.headers.host).toBe('www.example.test')
    expect(seen.headers['x-forwarded-host']).toBe('www.example.test')
    expect(seen.headers['x-forwarded-proto']).toBe('http')
    expect(seen.headers['x-forwarded-for']).toBe('203.0.113.9, 127.0.0.1')
  })

  it('forwards request bodies and methods', async () => {
    const answer = await get(balancer.httpPort, '/api/users', {
      method: 'POST',
      body: 'x'.repeat(100_000),
      headers: { 'content-type': 'text/plain' },
    })
    expect(JSON.parse(answer.body)).toMatchObject({ method: 'POST', bodyBytes: 100_000 })
    const chunked = await get(balancer.httpPort, '/api/users', {
      method: 'PUT',
      headers: { 'transfer-encoding': 'chunked' },
      body: 'abc',
    })
    expect(JSON.parse(chunked.body)).toMatchObject({ method: 'PUT', bodyBytes: 3 })
  })

  it('keeps every request answered while a backend dies, and takes it back when it returns', async () => {
    await one.stop()
    const started = Date.now()
    const failures: string[] = []
    while (Date.now() - started < 2000) {
      const answer = await get(balancer.httpPort)
      if (answer.status !== 200 || answer.headers['x-devenv-backend'] !== 'www2')
        failures.push(`${answer.status} ${answer.headers['x-devenv-backend']}`)
      await sleep(20)
    }
    expect(failures).toEqual([])
    expect(balancer.output()).toMatch(/backend www1 .* is down/)

    one = await startBackend('www1', one.port)
    await eventually(
      async () => (await get(balancer.httpPort)).headers['x-devenv-backend'] === 'www1',
      3000,
      'www1 back in rotation',
    )
    expect(balancer.output()).toMatch(/backend www1 .* is up/)
  })
})

describe('lb: strategies, stickiness, failures', () => {
  afterEach(stopAll)

  it('least-conn sends new requests to the backend with fewer in flight', async () => {
    const backends = await Promise.all([startBackend('www1'), startBackend('www2')])
    const balancer = await startBalancer(backends, { strategy: 'least-conn' })
    const slow = get(balancer.httpPort, '/?hold=1500')
    await sleep(200)
    const quick: string[] = []
    for (let index = 0; index < 5; index++)
      quick.push((await get(balancer.httpPort)).headers['x-devenv-backend'] as string)
    const held = (await slow).headers['x-devenv-backend'] as string
    const other = held === 'www1' ? 'www2' : 'www1'
    expect(quick).toEqual([other, other, other, other, other])
  })

  it('sticky sessions keep a client on the backend named in its cookie', async () => {
    const backends = await Promise.all([startBackend('www1'), startBackend('www2')])
    const balancer = await startBalancer(backends, { stickyCookie: 'DEVENV_BACKEND' })
    const first = await get(balancer.httpPort)
    const cookie = (first.headers['set-cookie'] ?? [])[0] ?? ''
    expect(cookie).toMatch(/^DEVENV_BACKEND=www[12]; Path=\/; HttpOnly/)
    const pinned = cookie.split(';')[0]!
    for (let index = 0; index < 5; index++) {
      const again = await get(balancer.httpPort, '/', { headers: { cookie: `other=1; ${pinned}` } })
      expect(again.headers['x-devenv-backend']).toBe(first.headers['x-devenv-backend'])
      expect(again.headers['set-cookie']).toBeUndefined()
    }
    // A cookie naming no backend gets a fresh one.
    const stale = await get(balancer.httpPort, '/', { headers: { cookie: 'DEVENV_BACKEND=%E0%A4%A' } })
    expect(stale.status).toBe(200)
    expect(stale.headers['set-cookie']?.[0]).toMatch(/^DEVENV_BACKEND=www[12];/)
  })

  it('answers 502 when no backend is up and 504 when a backend does not answer in time', async () => {
    const [backend] = await Promise.all([startBackend('www1')])
    const balancer = await startBalancer([backend!], { backendTimeoutMs: 300 })
    const slow = await get(balancer.httpPort, '/hang')
    expect(slow.status).toBe(504)
    expect(slow.body).toMatch(/did not answer within 300 ms/)
    await backend!.stop()
    const down = await get(balancer.httpPort)
    expect(down.status).toBe(502)
    const later = await get(balancer.httpPort)
    expect(later).toMatchObject({ status: 502, body: 'no backend is up\n' })
  })
})
