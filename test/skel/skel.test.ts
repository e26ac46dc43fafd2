import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO } from '../cli/run-cli.js'
import { randomLoopback } from '../mail/harness.js'
import { seedSkel, startPostgres, type TestPostgres } from './postgres.js'

// The webapp template's skel app against a real PostgreSQL seeded from the template's own files.
const TEMPLATE = path.join(REPO, 'templates', 'webapp')

let postgres: TestPostgres | undefined
let app: ChildProcess
let appOutput = ''
let base: string
let appExited: Promise<number | null>

beforeAll(async () => {
  const address = randomLoopback()
  postgres = await startPostgres(address)
  const databaseUrl = await seedSkel(postgres, [
    path.join(TEMPLATE, 'db', 'schema.sql'),
    path.join(TEMPLATE, 'db', 'data.sql'),
  ])
  // as the node box runs it: HOST/PORT of the service, devenv's node_modules on NODE_PATH for `pg`
  app = spawn(process.execPath, [path.join(TEMPLATE, 'app', 'server.cjs')], {
    cwd: path.join(REPO, 'test'),
    env: {
      PATH: process.env.PATH ?? '',
      HOST: address,
      PORT: '8080',
      DEVENV_SERVICE: 'www<1>',
      DATABASE_URL: databaseUrl,
      NODE_PATH: path.join(REPO, 'node_modules'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  app.stdout!.on('data', (chunk: Buffer) => (appOutput += chunk))
  app.stderr!.on('data', (chunk: Buffer) => (appOutput += chunk))
  appExited = new Promise((resolve) => app.once('exit', (code) => resolve(code)))
  base = `http://${address}:8080`
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`skel app did not start: ${appOutput}`)), 10_000)
    app.stdout!.on('data', () => appOutput.includes('listening on') && (clearTimeout(timer), resolve()))
  })
})

afterAll(async () => {
  if (app && app.exitCode === null) app.kill('SIGKILL')
  await postgres?.stop()
})

// The JSON is whatever the app answers; the assertions check its shape.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(method: string, pathname: string, body?: unknown): Promise<{ status: number; json: any }> {
  const response = await fetch(`${base}${pathname}`, {
    method,
    ...(body === undefined
      ? {}
      : {
          body: typeof body === 'string' ? body : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
        }),
  })
  const text = await response.text()
  return { status: response.status, json: text ? JSON.parse(text) : undefined }
}

describe('skel app', () => {
  it('says hello naming the server that answered (escaped) and is healthy with its database', async () => {
    const hello = await fetch(`${base}/`)
    expect(hello.status).toBe(200)
    expect(await hello.text()).toContain('Hello from www&#60;1&#62;')
    expect(await call('GET', '/health')).toEqual({ status: 200, json: { ok: true, server: 'www<1>' } })
    expect((await call('GET', '/nowhere')).status).toBe(404)
  })

  it('lists, reads, creates, updates and deletes companies', async () => {
    const seeded = await call('GET', '/api/companies')
    expect(seeded.json.map((company: { name: string }) => company.name)).toEqual([
      '3PillarGlobal',
      'Example Corp',
      'Acme',
    ])
    expect((await call('GET', '/api/companies/1')).json).toEqual({ id: 1, name: '3PillarGlobal', city: 'Timișoara' })

    const created = await call('POST', '/api/companies', { name: 'Initech', city: 'Austin' })
    expect(created.status).toBe(201)
    const id = created.json.id as number
    expect((await call('GET', `/api/companies/${id}`)).json).toEqual({ id, name: 'Initech', city: 'Austin' })

    expect(await call('PATCH', `/api/companies/${id}`, { city: 'Dallas' })).toEqual({
      status: 200,
      json: { id, name: 'Initech', city: 'Dallas' },
    })
    expect((await call('PUT', `/api/companies/${id}`, { city: 'Houston' })).status).toBe(400) // PUT replaces: name is required
    expect((await call('PUT', `/api/companies/${id}`, { name: 'Initrode', city: null })).json).toEqual({
      id,
      name: 'Initrode',
      city: null,
    })

    expect((await call('DELETE', `/api/companies/${id}`)).status).toBe(204)
    expect((await call('GET', `/api/companies/${id}`)).status).toBe(404)
    expect((await call('DELETE', `/api/companies/${id}`)).status).toBe(404)
  })

  it('answers bad input with 400/404/409 JSON errors, and stores hostile text verbatim', async () => {
    const cases: [string, string, unknown, number][] = [
      ['POST', '/api/companies', {}, 400],
      ['POST', '/api/companies', { name: '   ' }, 400],
      ['POST', '/api/companies', { name: 'X', owner: 'me' }, 400],
      ['POST', '/api/companies', '{"name": ', 400],
      ['POST', '/api/companies', '[1,2]', 400],
      ['POST', '/api/companies', { name: 'Acme' }, 409],
      ['PATCH', '/api/companies/1', {}, 400],
      ['GET', '/api/companies/abc', undefined, 404],
      ['GET', '/api/companies/99999999999', undefined, 404],
      ['GET', '/api/companies/0', undefined, 404],
      ['GET', '/api/nothing', undefined, 404],
      ['DELETE', '/api/companies', undefined, 405],
      ['POST', '/api/users', { name: 'No Mail' }, 400],
      ['POST', '/api/users', { name: 'Bad', email: 'not-an-email' }, 400],
      ['POST', '/api/users', { name: 'Ghost', email: 'ghost@example.test', company_id: 9999 }, 400],
      ['POST', '/api/users', { name: 'Ghost', email: 'ghost@example.test', company_id: '1' }, 400],
      ['POST', '/api/users', { name: 'Dup', email: 'ana@example.test' }, 409],
    ]
    for (const [method, pathname, body, status] of cases) {
      const result = await call(method, pathname, body)
      expect({ method, pathname, body, status: result.status }).toEqual({ method, pathname, body, status })
      expect(typeof result.json.error).toBe('string')
    }
    const oversized = await call('POST', '/api/companies', { name: 'x'.repeat(100_000) })
    expect(oversized.status).toBe(413)

    const hostile = "Robert'); DROP TABLE users; --"
    const created = await call('POST', '/api/companies', { name: hostile })
    expect(created.status).toBe(201)
    expect((await call('GET', `/api/companies/${created.json.id}`)).json.name).toBe(hostile)
    expect((await call('GET', '/api/users')).status).toBe(200)
  })

  it('manages users, and deleting a company leaves its users without one', async () => {
    expect((await call('GET', '/api/users')).json).toHaveLength(4)
    const company = (await call('POST', '/api/companies', { name: 'Globex' })).json
    const user = await call('POST', '/api/users', {
      name: 'Hank Scorpio',
      email: 'Hank@Globex.test',
      company_id: company.id,
    })
    expect(user.status).toBe(201)
    expect(user.json).toMatchObject({ name: 'Hank Scorpio', email: 'hank@globex.test', company_id: company.id })
    expect((await call('PATCH', `/api/users/${user.json.id}`, { name: 'H. Scorpio' })).json.name).toBe('H. Scorpio')
    await call('DELETE', `/api/companies/${company.id}`)
    expect((await call('GET', `/api/users/${user.json.id}`)).json.company_id).toBeNull()
    expect((await call('DELETE', `/api/users/${user.json.id}`)).status).toBe(204)
    expect((await call('GET', '/api/users')).json).toHaveLength(4)
  })

  it('reports 503 on /health when the database is gone, stays up, and stops on SIGTERM', async () => {
    await postgres!.stop()
    postgres = undefined
    const health = await call('GET', '/health')
    expect(health.status).toBe(503)
    expect(health.json).toMatchObject({ ok: false, server: 'www<1>' })
    expect(health.json.error).not.toContain('skel:skel') // no credentials in replies
    expect((await call('GET', '/api/users')).status).toBe(500)
    expect((await fetch(`${base}/`)).status).toBe(200)
    app.kill('SIGTERM')
    expect(await appExited).toBe(0)
  })
})
