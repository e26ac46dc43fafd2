import { execFileSync, spawnSync } from 'node:child_process'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { LbConfig } from '../../src/boxes/lb/config.js'
import type { BoxDriver, ServiceContext } from '../../src/boxes/driver.js'
import { loadEnvfile } from '../../src/envfile/index.js'
import { CHROMIUM, CHROMIUM_ARGS, hasChromium } from '../support/chromium.js'
import { freePort, LB_ADDRESS, startBackend, startProcess, stopAll, type Backend, type Running } from './harness.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/lb-https', import.meta.url))
/** Debian's chromium, and certutil (libnss3-tools) to give it a trust store: .ci/run installs both. */
const browserTools = hasChromium && spawnSync('certutil', ['-H'], { stdio: 'ignore' }).error === undefined
if (!browserTools)
  process.stderr.write('skipping the lb HTTPS browser check: chromium or certutil (libnss3-tools) is absent\n')

/** The driver as shipped: from dist, so that it finds dist/boxes/lb/main.js beside it. */
async function shippedDriver(): Promise<BoxDriver> {
  const module = (await import(fileURLToPath(new URL('../../dist/boxes/lb/driver.js', import.meta.url)))) as {
    lbDriver: BoxDriver
  }
  return module.lbDriver
}

function httpsGet(
  port: number,
  servername: string,
  ca?: string,
): Promise<{ status: number; backend: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.get(
      {
        host: LB_ADDRESS,
        port,
        path: '/',
        servername,
        headers: { host: servername },
        agent: false,
        ...(ca ? { ca } : {}),
      },
      (response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => (body += chunk.toString()))
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, backend: String(response.headers['x-devenv-backend']), body }),
        )
      },
    )
    request.on('error', reject)
  })
}

describe('lb driver: config from the envfile, HTTPS with the local CA', () => {
  let project: string
  let home: string
  let context: ServiceContext
  let balancer: Running
  let ports: { http: number; https: number }
  const logged: string[] = []

  beforeAll(async () => {
    project = mkdtempSync(path.join(os.tmpdir(), 'devenv-lb-project-'))
    home = mkdtempSync(path.join(os.tmpdir(), 'devenv-home-'))
    cpSync(FIXTURE, project, { recursive: true })
    const spec = loadEnvfile({ cwd: project })
    const backends: Record<string, Backend> = {}
    ;[backends.www1, backends.www2] = await Promise.all([startBackend('www1'), startBackend('www2')])
    ports = { http: await freePort(LB_ADDRESS), https: await freePort(LB_ADDRESS) }
    const runDir = path.join(project, '.devenv/services/lb/run')
    context = {
      project: { name: spec.name, root: spec.root, domain: spec.domain },
      service: spec.services.lb!,
      address: LB_ADDRESS,
      port: (declared) => (declared === 80 ? ports.http : declared === 443 ? ports.https : declared),
      dataDir: path.join(project, '.devenv/services/lb/data'),
      runDir,
      machineHome: home,
      env: { PATH: process.env.PATH ?? '' },
      log: (line) => logged.push(line),
      endpoint: (name) => ({
        address: '127.0.0.1',
        port: (declared) => (declared === 8080 ? backends[name]!.port : declared),
      }),
      signal: new AbortController().signal,
      // The runtime knows the other services' specs; so does this test.
      peer: (name) => spec.services[name],
    }
    const driver = await shippedDriver()
    await driver.prepare!(context)
    const launch = await driver.launch(context)
    balancer = await startProcess(launch.command, launch.args, launch.env, /listening on .*https:/)
  })
  afterAll(async () => {
    await stopAll()
    rmSync(project, { recursive: true, force: true })
    rmSync(home, { recursive: true, force: true })
  })

  it('writes a config with resolved backends and their health checks', () => {
    const config = JSON.parse(readFileSync(path.join(context.runDir, 'lb.json'), 'utf8')) as LbConfig
    expect(config).toMatchObject({
      address: LB_ADDRESS,
      httpPort: ports.http,
      strategy: 'round-robin',
      stickyCookie: 'DEVENV_BACKEND',
      https: { port: ports.https },
    })
    expect(config.backends.map((backend) => [backend.name, backend.check.kind])).toEqual([
      ['www1', 'http'],
      ['www2', 'tcp'],
    ])
    expect(statSync(config.https!.privateKeyFile).mode & 0o777).toBe(0o600)
    expect(logged.join('\n')).toMatch(/issued a certificate for .*www\.example\.test/)
  })

  it('serves HTTPS that curl verifies with the CA', () => {
    const ca = path.join(home, 'tls/ca.pem')
    const out = execFileSync(
      'curl',
      [
        '-sS',
        '--cacert',
        ca,
        '--resolve',
        `www.example.test:${ports.https}:${LB_ADDRESS}`,
        '-D',
        '-',
        `https://www.example.test:${ports.https}/`,
      ],
      { encoding: 'utf8' },
    )
    expect(out).toMatch(/^HTTP\/1\.1 200/)
    expect(out).toMatch(/x-devenv-backend: www[12]/i)
    expect(out).toMatch(/"x-forwarded-proto":"https"/)
    // Without the CA, curl must refuse: the certificate is really checked.
    expect(() =>
      execFileSync(
        'curl',
        [
          '-sS',
          '--resolve',
          `www.example.test:${ports.https}:${LB_ADDRESS}`,
          `https://www.example.test:${ports.https}/`,
        ],
        { stdio: 'pipe' },
      ),
    ).toThrow()
  })

  it('serves HTTPS that node verifies for every hostname, and plain HTTP alongside', async () => {
    const ca = readFileSync(path.join(home, 'tls/ca.pem'), 'utf8')
    for (const name of ['www.example.test', 'example.test', 'lb.example.test']) {
      const answer = await httpsGet(ports.https, name, ca)
      expect(answer.status).toBe(200)
      expect(answer.backend).toMatch(/^www[12]$/)
    }
    await expect(httpsGet(ports.https, 'other.test', ca)).rejects.toThrow(/altnames|Hostname/i)
    expect(balancer.output()).toMatch(/listening on http:\/\/127\.0\.77\.1:\d+ and https/)
  })

  // Chromium verifies with its own rules (SAN, EKU, the CA's name constraints, the key's type) and
  // reads trust from the NSS store under $HOME: one with the CA added, one without.
  it.skipIf(!browserTools)(
    'Chromium, trusting the CA, loads the page over HTTPS; without it, refuses',
    async () => {
      const load = async (trustCa: boolean): Promise<string> => {
        const userHome = mkdtempSync(path.join(os.tmpdir(), 'devenv-chromium-home-'))
        try {
          const nss = path.join(userHome, '.pki', 'nssdb')
          mkdirSync(nss, { recursive: true })
          execFileSync('certutil', ['-N', '-d', `sql:${nss}`, '--empty-password'])
          if (trustCa)
            execFileSync('certutil', [
              '-A',
              '-d',
              `sql:${nss}`,
              '-t',
              'C,,',
              '-n',
              'devenv',
              '-i',
              `${home}/tls/ca.pem`,
            ])
          const { chromium } = await import('playwright-core')
          const browser = await chromium.launch({
            executablePath: CHROMIUM,
            headless: true,
            env: { ...process.env, HOME: userHome },
            args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP www.example.test ${LB_ADDRESS}`],
          })
          try {
            const page = await browser.newPage()
            const response = await page.goto(`https://www.example.test:${ports.https}/`).catch((error: Error) => error)
            return response instanceof Error ? response.message : `${response?.status()} ${await page.content()}`
          } finally {
            await browser.close()
          }
        } finally {
          rmSync(userHome, { recursive: true, force: true })
        }
      }
      expect(await load(true)).toMatch(/^200 .*www[12]/s)
      expect(await load(false)).toMatch(/ERR_CERT_AUTHORITY_INVALID/)
    },
    60_000,
  )

  it('reuses the cached certificate on the next prepare', async () => {
    const before = readFileSync(path.join(context.runDir, 'lb.json'), 'utf8')
    const certificateFile = (JSON.parse(before) as LbConfig).https!.certificateFile
    const certificate = readFileSync(certificateFile, 'utf8')
    logged.length = 0
    await (
      await shippedDriver()
    ).prepare!(context)
    expect(readFileSync(certificateFile, 'utf8')).toBe(certificate)
    expect(logged).toEqual([])
  })
})
