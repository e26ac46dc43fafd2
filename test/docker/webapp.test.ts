import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { dockerUnavailable } from '../support/docker.js'
import { labelledObjects } from '../support/docker-images.js'
import { readDotenv, request, service, WebappProject, waitFor, type StatusJson } from '../webapp/harness.js'

const unavailable = await dockerUnavailable()
if (unavailable) process.stdout.write(`docker suite skipped: ${unavailable}\n`)

/**
 * The reference stack on a Docker engine: the webapp template with `runtime: docker`, every
 * built-in box in devenv's box image, used by real clients as on the bundled runtime.
 */
describe.skipIf(unavailable)('the webapp template on the docker provider', () => {
  const project = new WebappProject()
  let status: StatusJson

  beforeAll(async () => {
    const init = await project.run(['init', '--template', 'webapp'])
    expect(init.exitCode, init.stderr).toBe(0)
    await project.freePublishedPorts()
    const envfile = path.join(project.root, 'devenv.yaml')
    writeFileSync(envfile, readFileSync(envfile, 'utf8').replace(/^name: /m, 'runtime: docker\nname: '))
    const up = await project.run(['up'], 150_000)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
    status = await project.status()
  }, 180_000)

  afterAll(async () => {
    await project.cleanup()
    expect(await labelledObjects(project.root)).toEqual({ containers: [], networks: [] })
  }, 90_000)

  it('brings all six services to running and healthy as containers, each on its own address', async () => {
    for (const entry of status.services)
      expect([entry.name, entry.state, entry.health]).toEqual([entry.name, 'running', 'healthy'])
    expect(new Set(status.services.map((entry) => entry.address)).size).toBe(6)
    expect((await labelledObjects(project.root)).containers).toHaveLength(6)
    const human = await project.run(['status'])
    expect(human.stdout).toMatch(/docker engine at unix:\/\//)
  })

  it('balances www.example.test over both app servers, which answer directly on their published ports', async () => {
    const lb = service(status, 'lb')
    const backends = new Set<string>()
    for (let index = 0; index < 8; index++) {
      const reply = await request({ address: lb.address, port: 80, host: 'www.example.test' })
      expect(reply.status).toBe(200)
      backends.add(String(reply.headers['x-devenv-backend']))
    }
    expect([...backends].sort()).toEqual(['www1', 'www2'])
    for (const name of ['www1', 'www2']) {
      const published = service(status, name).ports.find((port) => port.port === 8080)!.published!
      if (project.notes.length === 0) expect(published.port).toBe(name === 'www1' ? 81 : 82)
      const hello = await request({ address: published.address, port: published.port })
      expect(hello.body).toContain(`Hello from ${name}`)
    }
  })

  it('seeded PostgreSQL answers psql; the app reads it by hostname on the project network', async () => {
    const psql = service(status, 'psql')
    const count = await execa(
      'psql',
      ['-h', psql.address, '-U', 'skel', '-tAc', 'select count(*) from users', 'skel'],
      {
        env: { PGPASSWORD: 'skel' },
      },
    )
    expect(Number(count.stdout)).toBeGreaterThan(0)
    const www1 = service(status, 'www1')
    const users = await request({ address: www1.address, port: 8080, path: '/api/users' })
    expect(users.status, users.body).toBe(200)
    expect((JSON.parse(users.body) as unknown[]).length).toBe(Number(count.stdout))
  })

  it('catches mail sent over SMTP, shown by `devenv mail list`', async () => {
    const mail = service(status, 'mail')
    const subject = `On docker ${Date.now()}`
    const sent = await execa(
      'curl',
      [
        '-sS',
        '--url',
        `smtp://${mail.address}:25`,
        '--mail-from',
        'qa@example.test',
        '--mail-rcpt',
        '3pg@example.test',
        '-T',
        '-',
      ],
      { input: `Subject: ${subject}\r\nFrom: qa@example.test\r\nTo: 3pg@example.test\r\n\r\nhello\r\n`, reject: false },
    )
    expect(sent.exitCode, sent.stderr).toBe(0)
    const listed = await waitFor(
      'the message in `mail list`',
      async () => {
        const messages = await project.json<{ subject: string }[]>(['mail', 'list'])
        return messages.find((message) => message.subject === subject)
      },
      5000,
    )
    expect(listed.subject).toBe(subject)
  })

  it('serves FTP (passive mode, through the published passive ports) as 3pg', async () => {
    const ftp = service(status, 'ftp')
    const password = readDotenv(path.join(project.root, '.env')).FTP_PASSWORD!
    const local = path.join(project.base, 'upload.txt')
    writeFileSync(local, 'over ftp on docker\n')
    const upload = await execa(
      'curl',
      [
        '-sS',
        '--fail',
        '--max-time',
        '15',
        '--user',
        `3pg:${password}`,
        '-T',
        local,
        `ftp://${ftp.address}/upload.txt`,
      ],
      { reject: false },
    )
    expect(upload.exitCode, upload.stderr).toBe(0)
    expect(readFileSync(path.join(project.root, 'ftp', '3pg', 'upload.txt'), 'utf8')).toBe('over ftp on docker\n')
  })

  it('restarts both app servers in turn when the app folder changes', async () => {
    const file = path.join(project.root, 'app', 'server.cjs')
    writeFileSync(file, readFileSync(file, 'utf8').replace('Hello from', 'Hi from'))
    for (const name of ['www1', 'www2']) {
      const address = service(status, name).address
      await waitFor(
        `${name} serving the change`,
        async () => {
          const reply = await request({ address, port: 8080 }).catch(() => undefined)
          return reply?.body.includes(`Hi from ${name}`)
        },
        30_000,
      )
    }
  })
})
