import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createStaticServer } from '../../src/boxes/static/server.js'
import { temporaryFolder } from '../watch/fixtures.js'
import { fetchRaw } from './http.js'

let folder: ReturnType<typeof temporaryFolder>
let site: string
let plain: { server: Server; port: number }
let spa: { server: Server; port: number }
const logged: string[] = []

const BINARY = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256))

async function listen(spaMode: boolean) {
  const server = createStaticServer({ root: site, spa: spaMode }, (line) => logged.push(line))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as AddressInfo).port }
}

beforeAll(async () => {
  folder = temporaryFolder('devenv-static-')
  site = path.join(folder.path, 'site')
  mkdirSync(path.join(site, 'docs'), { recursive: true })
  mkdirSync(path.join(site, 'empty'))
  writeFileSync(path.join(site, 'index.html'), '<h1>home</h1>')
  writeFileSync(path.join(site, 'app.js'), 'console.log(1)')
  writeFileSync(path.join(site, 'style.css'), 'body{}')
  writeFileSync(path.join(site, 'logo.svg'), '<svg/>')
  writeFileSync(path.join(site, 'data.bin'), BINARY)
  writeFileSync(path.join(site, 'docs/index.html'), '<h1>docs</h1>')
  writeFileSync(path.join(site, '.env'), 'SECRET=1')
  writeFileSync(path.join(folder.path, 'secret.txt'), 'outside the root')
  symlinkSync(path.join(folder.path, 'secret.txt'), path.join(site, 'leak.txt'))
  symlinkSync(folder.path, path.join(site, 'up'))
  symlinkSync(path.join(site, 'app.js'), path.join(site, 'alias.js'))
  plain = await listen(false)
  spa = await listen(true)
})

afterAll(async () => {
  for (const running of [plain, spa]) {
    running?.server.closeAllConnections()
    await new Promise((resolve) => running?.server.close(resolve))
  }
  folder.remove()
})

describe('static server', () => {
  it('serves files with their content type and validators', async () => {
    const answer = await fetchRaw(plain.port, '/app.js')
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('console.log(1)')
    expect(answer.headers['content-type']).toBe('text/javascript; charset=utf-8')
    expect(answer.headers['content-length']).toBe('14')
    expect(answer.headers.etag).toMatch(/^"[0-9a-z]+-[0-9a-z]+"$/)
    expect(answer.headers['last-modified']).toBeDefined()
    expect((await fetchRaw(plain.port, '/style.css')).headers['content-type']).toBe('text/css; charset=utf-8')
    expect((await fetchRaw(plain.port, '/logo.svg')).headers['content-type']).toBe('image/svg+xml; charset=utf-8')
    expect((await fetchRaw(plain.port, '/data.bin')).headers['content-type']).toBe('application/octet-stream')
  })

  it('serves index.html for folders and redirects a folder without its slash', async () => {
    expect((await fetchRaw(plain.port, '/')).body).toBe('<h1>home</h1>')
    expect((await fetchRaw(plain.port, '/docs/')).body).toBe('<h1>docs</h1>')
    const redirect = await fetchRaw(plain.port, '/docs?x=1')
    expect(redirect.status).toBe(301)
    expect(redirect.headers.location).toBe('/docs/?x=1')
    expect((await fetchRaw(plain.port, '/empty/')).status).toBe(404)
  })

  it('answers 304 to a client whose copy is current, by ETag or by date', async () => {
    const first = await fetchRaw(plain.port, '/index.html')
    const etag = first.headers.etag as string
    const byTag = await fetchRaw(plain.port, '/index.html', { headers: { 'If-None-Match': etag } })
    expect(byTag.status).toBe(304)
    expect(byTag.body).toBe('')
    expect((await fetchRaw(plain.port, '/index.html', { headers: { 'If-None-Match': `W/${etag}` } })).status).toBe(304)
    expect((await fetchRaw(plain.port, '/index.html', { headers: { 'If-None-Match': '"other"' } })).status).toBe(200)
    const lastModified = first.headers['last-modified'] as string
    expect((await fetchRaw(plain.port, '/index.html', { headers: { 'If-Modified-Since': lastModified } })).status).toBe(
      304,
    )
    const earlier = new Date(Date.parse(lastModified) - 10_000).toUTCString()
    expect((await fetchRaw(plain.port, '/index.html', { headers: { 'If-Modified-Since': earlier } })).status).toBe(200)
  })

  it('serves byte ranges', async () => {
    const middle = await fetchRaw(plain.port, '/data.bin', { headers: { Range: 'bytes=10-19' } })
    expect(middle.status).toBe(206)
    expect(middle.headers['content-range']).toBe('bytes 10-19/1000')
    expect(Buffer.from(middle.body, 'latin1').length).toBe(10)
    const words = await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=0-6' } })
    expect(words.body).toBe('console')
    const suffix = await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=-3' } })
    expect(suffix.body).toBe('(1)')
    expect(suffix.headers['content-range']).toBe('bytes 11-13/14')
    const open = await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=8-' } })
    expect(open.body).toBe('log(1)')
    const beyond = await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=100-200' } })
    expect(beyond.status).toBe(416)
    expect(beyond.headers['content-range']).toBe('bytes */14')
    // Several ranges or a stale If-Range: the whole file, as the RFC allows.
    expect((await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=0-1,4-5' } })).status).toBe(200)
    expect(
      (await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=0-1', 'If-Range': '"stale"' } })).status,
    ).toBe(200)
    const etag = (await fetchRaw(plain.port, '/app.js')).headers.etag as string
    expect((await fetchRaw(plain.port, '/app.js', { headers: { Range: 'bytes=0-1', 'If-Range': etag } })).status).toBe(
      206,
    )
  })

  it('answers HEAD with the headers of GET and no body', async () => {
    const answer = await fetchRaw(plain.port, '/app.js', { method: 'HEAD' })
    expect(answer.status).toBe(200)
    expect(answer.headers['content-length']).toBe('14')
    expect(answer.body).toBe('')
    expect((await fetchRaw(plain.port, '/app.js', { method: 'POST' })).status).toBe(405)
  })

  it('refuses to leave the root: .., encoded .., symlinks out', async () => {
    for (const target of [
      '/../secret.txt',
      '/docs/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/%2E%2E%2Fsecret.txt',
      '/docs/%2e%2e/%2e%2e/secret.txt',
      '/..%5csecret.txt',
    ]) {
      const answer = await fetchRaw(plain.port, target)
      expect([400, 403], target).toContain(answer.status)
      expect(answer.body).not.toContain('outside the root')
    }
    expect((await fetchRaw(plain.port, '/leak.txt')).status).toBe(403)
    expect((await fetchRaw(plain.port, '/up/secret.txt')).status).toBe(403)
    expect((await fetchRaw(spa.port, '/leak.txt')).status).toBe(403)
    // A link that stays inside is fine.
    expect((await fetchRaw(plain.port, '/alias.js')).body).toBe('console.log(1)')
    expect((await fetchRaw(plain.port, '/%00')).status).toBe(400)
    expect((await fetchRaw(plain.port, '/%E0%A4%A')).status).toBe(400)
  })

  it('hides dotfiles', async () => {
    expect((await fetchRaw(plain.port, '/.env')).status).toBe(404)
    expect((await fetchRaw(spa.port, '/.env')).body).toBe('<h1>home</h1>')
  })

  it('answers unknown paths with a 404 page, or with index.html in spa mode', async () => {
    const missing = await fetchRaw(plain.port, '/nowhere/page')
    expect(missing.status).toBe(404)
    expect(missing.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(missing.body).toContain('404 Not Found')
    const fallback = await fetchRaw(spa.port, '/users/42/settings')
    expect(fallback.status).toBe(200)
    expect(fallback.body).toBe('<h1>home</h1>')
    expect((await fetchRaw(spa.port, '/app.js')).body).toBe('console.log(1)')
  })

  it('serves an edited file at once, with a new ETag', async () => {
    const file = path.join(site, 'live.html')
    writeFileSync(file, 'before')
    const before = await fetchRaw(plain.port, '/live.html')
    expect(before.body).toBe('before')
    writeFileSync(file, 'after!')
    // Same size, and even the same mtime to the second: the ETag still tells them apart.
    const second = new Date(Math.floor(Date.now() / 1000) * 1000)
    utimesSync(file, second, second)
    const after = await fetchRaw(plain.port, '/live.html', {
      headers: { 'If-None-Match': before.headers.etag as string },
    })
    expect(after.status).toBe(200)
    expect(after.body).toBe('after!')
    expect(after.headers['cache-control']).toBe('no-cache')
  })

  it('logs one compact line per request, without the query string', async () => {
    logged.length = 0
    await fetchRaw(plain.port, '/app.js?token=hunter2')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(logged).toHaveLength(1)
    expect(logged[0]).toMatch(/^GET \/app\.js 200 14b \d+\.\dms$/)
  })
})
