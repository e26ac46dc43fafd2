import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadEnvfile } from '../../src/envfile/index.js'
import { DevenvError } from '../../src/errors.js'
import { assertIntegrity, lockIntegrity, verifyIntegrity } from '../../src/integrity/index.js'

const fixture = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/integrity-project')
let folder: string
let project: string
beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-gate-'))
  project = path.join(folder, 'project')
  cpSync(fixture, project, { recursive: true })
})
afterEach(() => rmSync(folder, { recursive: true, force: true }))

const spec = () => loadEnvfile({ cwd: project })

async function failure(promise: Promise<unknown>): Promise<DevenvError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof DevenvError) return error
    throw error
  }
  throw new Error('expected a DevenvError')
}

describe('assertIntegrity (the gate of up)', () => {
  it('passes on locked files, and fails naming each bad file, its services, expected and found, logging the failure', async () => {
    lockIntegrity(spec())
    await expect(assertIntegrity(spec())).resolves.toMatchObject({ ok: true })

    appendFileSync(path.join(project, 'config/nginx/site.conf'), '# edited\n')
    const report = await verifyIntegrity(spec())
    const site = report.files.find((check) => check.file === 'config/nginx/site.conf')!
    const error = await failure(assertIntegrity(spec()))
    expect(error.code).toBe('INTEGRITY')
    expect(error.exitCode).toBe(1)
    expect(error.message).toContain('not starting web')
    expect(error.message).not.toContain('app')
    expect(error.details).toEqual([
      `config/nginx/site.conf: changed, expected sha256 ${site.expected}, found ${site.found} (web)`,
    ])
    const log = readFileSync(path.join(project, '.devenv/logs/integrity.log'), 'utf8')
    expect(log).toContain('integrity check failed')
    expect(log).toContain(site.found!)

    // a service whose files are fine passes when asked for alone
    await expect(assertIntegrity(spec(), ['app'])).resolves.toBeDefined()
  })

  it('treats an unlocked project as failing, so `up` cannot skip `devenv lock`', async () => {
    const error = await failure(assertIntegrity(spec()))
    expect(error.details).toHaveLength(4)
    expect(error.details.every((line) => line.includes('not in devenv.lock'))).toBe(true)
  })
})

describe('integrity manifest', () => {
  let server: Server
  let body = ''
  afterEach(() => new Promise<void>((resolve) => (server?.listening ? server.close(() => resolve()) : resolve())))

  async function serve(): Promise<string> {
    server = createServer((request, response) => {
      if (request.url === '/manifest') response.end(body)
      else response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  function useManifest(url: string): void {
    const envfile = path.join(project, 'devenv.yaml')
    writeFileSync(
      envfile,
      readFileSync(path.join(fixture, 'devenv.yaml'), 'utf8').replace(
        'files: [config/shared.env]',
        `files: [config/shared.env]\n  manifest: ${url}`,
      ),
    )
  }

  it('takes the expected checksums from the URL', async () => {
    const base = await serve()
    lockIntegrity(spec())
    body = readFileSync(path.join(project, 'devenv.lock'), 'utf8')
    rmSync(path.join(project, 'devenv.lock'))
    useManifest(`${base}/manifest`)
    await expect(verifyIntegrity(spec())).resolves.toMatchObject({ ok: true, source: `${base}/manifest` })
    body = body.replace(/^[0-9a-f]{64}(?= {2}config\/shared\.env$)/m, '0'.repeat(64))
    const report = await verifyIntegrity(spec())
    expect(report.files.find((check) => check.file === 'config/shared.env')).toMatchObject({
      status: 'changed',
      expected: '0'.repeat(64),
    })
  })

  it('says clearly when the manifest cannot be had', async () => {
    const base = await serve()
    useManifest(`${base}/missing`)
    await expect(verifyIntegrity(spec())).rejects.toThrow(
      `cannot fetch the integrity manifest ${base}/missing: HTTP 404`,
    )
    await new Promise<void>((resolve) => server.close(() => resolve()))
    useManifest(`${base}/manifest`)
    await expect(verifyIntegrity(spec())).rejects.toThrow(
      `cannot fetch the integrity manifest ${base}/manifest: ECONNREFUSED`,
    )
  })
})
