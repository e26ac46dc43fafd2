import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readDotenv, request, service, WebappProject, waitFor, type StatusJson } from './harness.js'

/**
 * The reference stack as a user gets it: `devenv init --template webapp && devenv up` boots it,
 * and real clients (HTTP, Python's smtplib, curl over FTP and HTTPS, psql) use every service.
 * One `up` for the whole file; the test that stops www1 runs last.
 */
const SERVICES = ['lb', 'www1', 'www2', 'psql', 'mail', 'ftp']

describe('the webapp template, booted with one `devenv up`', () => {
  const project = new WebappProject()
  let status: StatusJson
  let lb: { address: string; port: number }

  beforeAll(async () => {
    const init = await project.run(['init', '--template', 'webapp'])
    expect(init.exitCode, init.stderr).toBe(0)
    await project.freePublishedPorts()
    for (const note of project.notes) console.warn(`webapp test: ${note}`)
    const up = await project.run(['up'], 90_000)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
    status = await project.status()
    const balancer = service(status, 'lb')
    lb = { address: balancer.address, port: balancer.ports.find((port) => port.port === 80)!.bound }
  }, 120_000)

  afterAll(async () => {
    await project.cleanup()
  }, 60_000)

  it('brings all six services to running and healthy', () => {
    expect(status.supervisor.running).toBe(true)
    expect(status.services.map((entry) => entry.name).sort()).toEqual([...SERVICES].sort())
    for (const entry of status.services) {
      expect({ name: entry.name, state: entry.state, health: entry.health }).toEqual({
        name: entry.name,
        state: 'running',
        health: 'healthy',
      })
    }
    // each on an address of its own, so every one listens on its standard port
    expect(new Set(status.services.map((entry) => entry.address)).size).toBe(SERVICES.length)
  })

  it('balances HTTP for www.example.test over both app servers', async () => {
    const backends = new Set<string>()
    for (let index = 0; index < 10; index++) {
      const reply = await request({ ...lb, host: 'www.example.test' })
      expect(reply.status).toBe(200)
      const backend = String(reply.headers['x-devenv-backend'])
      expect(reply.body).toContain(`Hello from ${backend}`)
      backends.add(backend)
    }
    expect([...backends].sort()).toEqual(['www1', 'www2'])
  })

  it('reads a company created through the balancer back from www2 directly, on its published port', async () => {
    const name = `Created through the balancer ${process.pid}-${Date.now()}`
    const created = await request({
      ...lb,
      host: 'www.example.test',
      method: 'POST',
      path: '/api/companies',
      json: { name, city: 'Timișoara' },
    })
    expect(created.status, created.body).toBe(201)
    const company = JSON.parse(created.body) as { id: number; name: string; city: string }
    expect(company).toMatchObject({ name, city: 'Timișoara' })

    const published = service(status, 'www2').ports.find((port) => port.port === 8080)!.published!
    expect(published.address).toBe('127.0.0.1')
    if (project.notes.length === 0) expect(published.port).toBe(82)
    const direct = await request({
      address: published.address,
      port: published.port,
      path: `/api/companies/${company.id}`,
    })
    expect(direct.status, direct.body).toBe(200)
    expect(JSON.parse(direct.body)).toEqual(company)
    // straight to www2: no balancer header on the way
    expect(direct.headers['x-devenv-backend']).toBeUndefined()
    const hello = await request({ address: published.address, port: published.port })
    expect(hello.body).toContain('Hello from www2')
  })

  it('delivers a message sent with Python smtplib, which `devenv mail list` and `mail show` then show', async () => {
    const mail = service(status, 'mail')
    const subject = `Welcome ${process.pid}-${Date.now()}`
    const script = [
      'import smtplib, sys',
      'from email.message import EmailMessage',
      'message = EmailMessage()',
      "message['From'] = 'qa@example.test'",
      "message['To'] = '3pg@example.test'",
      "message['Subject'] = sys.argv[3]",
      "message.set_content('Hello 3pg, from smtplib.')",
      'with smtplib.SMTP(sys.argv[1], int(sys.argv[2]), timeout=10) as client:',
      '    client.send_message(message)',
    ].join('\n')
    const sent = await execa(
      'python3',
      ['-c', script, mail.address, String(mail.ports.find((port) => port.port === 25)!.bound), subject],
      { reject: false, timeout: 15_000 },
    )
    expect(sent.exitCode, sent.stderr).toBe(0)

    const listed = await waitFor(
      'the message in `mail list`',
      async () => {
        const messages = await project.json<{ id: string; subject: string; to: string[]; from: string }[]>([
          'mail',
          'list',
        ])
        return messages.find((message) => message.subject === subject)
      },
      5000,
    )
    expect(listed.to).toEqual(['3pg@example.test'])
    expect(listed.from).toContain('qa@example.test')

    const shown = await project.json<{ subject: string; text: string | null }>(['mail', 'show', listed.id])
    expect(shown.subject).toBe(subject)
    expect(shown.text).toContain('Hello 3pg, from smtplib.')
    const human = await project.run(['mail', 'show', listed.id])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toContain(subject)
  })

  it('uploads and downloads a file over FTP with curl, as 3pg with the password from .env', async () => {
    const ftp = service(status, 'ftp')
    const password = readDotenv(path.join(project.root, '.env')).FTP_PASSWORD
    expect(password).toBeTruthy()
    const url = `ftp://${ftp.address}:${ftp.ports.find((port) => port.port === 21)!.bound}`
    const content = `uploaded by curl ${Date.now()}\n`.repeat(2000)
    const local = path.join(project.base, 'upload.txt')
    writeFileSync(local, content)

    const upload = await execa(
      'curl',
      ['-sS', '--fail', '--max-time', '15', '--user', `3pg:${password}`, '-T', local, `${url}/upload.txt`],
      { reject: false },
    )
    expect(upload.exitCode, upload.stderr).toBe(0)
    // 3pg's root is the project's ftp/3pg folder
    expect(readFileSync(path.join(project.root, 'ftp', '3pg', 'upload.txt'), 'utf8')).toBe(content)

    const download = await execa(
      'curl',
      ['-sS', '--fail', '--max-time', '15', '--user', `3pg:${password}`, `${url}/upload.txt`],
      { reject: false, stripFinalNewline: false },
    )
    expect(download.exitCode, download.stderr).toBe(0)
    expect(download.stdout).toBe(content)

    const refused = await execa(
      'curl',
      ['-sS', '--fail', '--max-time', '15', '--user', '3pg:not-the-password', `${url}/upload.txt`],
      { reject: false },
    )
    expect(refused.exitCode).not.toBe(0)

    // its health checks (one a second) say QUIT like a real client: no error lines in its log
    const log = readFileSync(path.join(project.root, '.devenv', 'logs', 'ftp.log'), 'utf8')
    expect(log).toContain('3pg logged in')
    expect(log).not.toMatch(/client error/)
  })

  it('serves https://www.example.test/ with a certificate of the local CA', async () => {
    const ca = await project.json<{ certificate: string }>(['tls', 'ca'])
    const balancer = service(status, 'lb')
    const port = balancer.ports.find((entry) => entry.port === 443)!.bound
    const resolve = `www.example.test:${port}:${balancer.address}`
    const page = await execa(
      'curl',
      [
        '-sS',
        '--fail',
        '--max-time',
        '10',
        '-D',
        '-',
        '--cacert',
        ca.certificate,
        '--resolve',
        resolve,
        `https://www.example.test:${port}/`,
      ],
      { reject: false },
    )
    expect(page.exitCode, page.stderr).toBe(0)
    expect(page.stdout).toMatch(/Hello from www[12]/)
    expect(page.stdout).toMatch(/x-devenv-backend: www[12]/i)
    // and without that CA curl refuses it: the page above was really verified
    const untrusted = await execa(
      'curl',
      ['-sS', '--max-time', '10', '--resolve', resolve, `https://www.example.test:${port}/`],
      { reject: false },
    )
    expect(untrusted.exitCode).toBe(60)
  })

  it('has the seeded skel rows, read with the real psql client as skel/skel', async () => {
    const psql = service(status, 'psql')
    const port = psql.ports.find((entry) => entry.port === 5432)!.bound
    const query = await execa(
      'psql',
      [
        '-X',
        '-A',
        '-t',
        '-F',
        '|',
        '-h',
        psql.address,
        '-p',
        String(port),
        '-U',
        'skel',
        '-d',
        'skel',
        '-c',
        'SELECT name, city FROM companies WHERE id <= 3 ORDER BY id; SELECT count(*) FROM users',
      ],
      {
        reject: false,
        timeout: 15_000,
        env: { PGPASSWORD: 'skel', PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'disable' },
      },
    )
    expect(query.exitCode, query.stderr).toBe(0)
    expect(query.stdout.split('\n')).toEqual([
      '3PillarGlobal|Timișoara',
      'Example Corp|Springfield',
      'Acme|Cluj-Napoca',
      '4',
    ])
  })

  it('with www1 stopped, every request through the balancer still succeeds, answered by www2', async () => {
    const stop = await project.run(['stop', 'www1'])
    expect(stop.exitCode, stop.stderr).toBe(0)
    const www1 = service(await project.status(), 'www1')
    expect(www1.state).toBe('stopped')
    const answered: string[] = []
    for (let index = 0; index < 50; index++) {
      const reply = await request({ ...lb, host: 'www.example.test' })
      expect(reply.status, `request ${index + 1}: ${reply.body}`).toBe(200)
      answered.push(String(reply.headers['x-devenv-backend']))
    }
    expect(new Set(answered)).toEqual(new Set(['www2']))
  })
})
