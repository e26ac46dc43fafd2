import { readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCompose } from '../../src/exporting/index.js'
import { devenv } from '../cli/run-cli.js'
import { freePort } from '../runtime/helpers.js'
import {
  composeSpecErrors,
  copyOf,
  dockerUnavailable,
  FIXED_PLANNER,
  importBusyboxBase,
  loadProject,
  removeFolder,
} from './helpers.js'

interface ComposeFileShape {
  name?: string
  services: Record<string, Record<string, unknown> & { networks?: { default: { aliases: string[] } } }>
  volumes?: Record<string, unknown>
}

const BASE_IMAGE = 'devenvtest-export-base:1'
const WEB_IMAGE = 'devenvtest-export-web:1'
const unavailable = await dockerUnavailable()
if (unavailable) console.warn(`export compose: docker-compose tests skipped: ${unavailable}`)

describe('export compose of the webapp template (boxes planned by a fixed planner)', () => {
  let folder: string
  let text: string
  let file: ComposeFileShape

  beforeAll(() => {
    folder = copyOf('templates/webapp', 'webapp')
    const spec = loadProject(folder)
    text = exportCompose(spec, FIXED_PLANNER).text
    writeFileSync(path.join(folder, 'compose.yaml'), text)
    file = parse(text) as ComposeFileShape
  })
  afterAll(() => removeFolder(folder))

  it('validates against the vendored compose-spec schema, and has no top-level name', () => {
    expect(composeSpecErrors(file)).toEqual([])
    expect(file.name).toBeUndefined()
    expect(Object.keys(file.services)).toEqual(['lb', 'www1', 'www2', 'psql', 'mail', 'ftp'])
  })

  it.skipIf(unavailable)('docker-compose 1.29 accepts it unchanged', async () => {
    const config = await execa('docker-compose', ['-f', 'compose.yaml', 'config'], { cwd: folder, reject: false })
    expect(config.stderr).toBe('')
    expect(config.exitCode).toBe(0)
    // What it read back is what was meant: ports on 127.0.0.1, the bind mount, the data volume.
    const read = parse(config.stdout) as ComposeFileShape
    expect(read.services.www1!.ports).toEqual(['127.0.0.1:81:8080/tcp'])
    expect(read.services.www1!.volumes).toEqual([`${path.join(folder, 'app')}:/app:rw`])
    expect(Object.keys(read.volumes ?? {}).sort()).toEqual(['ftp-data', 'mail-data', 'psql-data'])
  })

  it('hostnames are network aliases, health checks and depends_on conditions carry over', () => {
    expect(file.services.psql!.networks!.default.aliases).toEqual(['psql.example.test'])
    expect(file.services.lb!.networks!.default.aliases).toEqual(['www.example.test', 'example.test', 'lb.example.test'])
    expect(file.services.www1!.depends_on).toEqual({ psql: { condition: 'service_healthy' } })
    expect(file.services.www1!.healthcheck).toMatchObject({
      test: ['CMD-SHELL', expect.stringContaining('http://127.0.0.1:8080/health')],
      interval: '10s',
      retries: 3,
    })
    expect(file.services.psql!.image).toBe('devenvtest-export-box-postgres:1')
    expect(file.services.psql!.user).toBe('999')
    expect(text).toContain('#   devenvtest-export-box-postgres:1: devenv image build postgres')
  })

  it('a `$` in a value is doubled, so Compose does not interpolate it', () => {
    const spec = loadProject(folder)
    spec.services.www1!.env.PRICE = 'costs $5'
    const exported = parse(exportCompose(spec, FIXED_PLANNER).text) as ComposeFileShape
    expect(exported.services.www1!.environment).toMatchObject({ BOX: 'node' })
    const planned = parse(
      exportCompose(spec, (s, service) => ({ ...FIXED_PLANNER(s, service), env: service.env })).text,
    ) as ComposeFileShape
    expect((planned.services.www1!.environment as Record<string, string>).PRICE).toBe('costs $$5')
  })
})

describe.skipIf(unavailable)('export compose of the webapp template, then docker-compose up: the lb answers', () => {
  let folder: string
  const project = `devenvtest-export-webapp-${process.pid}`

  beforeAll(async () => {
    folder = copyOf('templates/webapp', 'webapp-up')
    await importBusyboxBase('devenvtest-export-base:1')
    const envfile = path.join(folder, 'devenv.yaml')
    // Ports of its own: 81 and 82 may be taken on this machine.
    const [www1, www2] = [await freePort(), await freePort()]
    writeFileSync(
      envfile,
      readFileSync(envfile, 'utf8').replace('"81:8080"', `"${www1}:8080"`).replace('"82:8080"', `"${www2}:8080"`),
    )
  }, 60_000)

  afterAll(async () => {
    await execa('docker-compose', ['-p', project, 'down', '-v'], { cwd: folder, reject: false })
    removeFolder(folder)
  }, 90_000)

  it("builds devenv's box image, and the file brings every built-in box up healthy under docker-compose", async () => {
    const exported = await devenv(['export', 'compose', '--build-images', '-o', 'compose.yaml'], {
      cwd: folder,
      timeout: 120_000,
    })
    expect(exported.exitCode, exported.stderr).toBe(0)
    const config = await execa('docker-compose', ['-p', project, 'config', '-q'], { cwd: folder, reject: false })
    expect(config.exitCode, config.stderr).toBe(0)
    const up = await execa('docker-compose', ['-p', project, 'up', '-d'], {
      cwd: folder,
      reject: false,
      timeout: 150_000,
    })
    expect(up.exitCode, up.stderr).toBe(0)
    const healthy = async (): Promise<boolean> => {
      const ids = (await execa('docker-compose', ['-p', project, 'ps', '-q'], { cwd: folder })).stdout
        .split('\n')
        .filter(Boolean)
      const states = await execa('docker', ['inspect', '-f', '{{.State.Health.Status}}', ...ids], { reject: false })
      return ids.length === 6 && states.stdout.split('\n').every((state) => state === 'healthy')
    }
    for (let waited = 0; !(await healthy()); waited += 1000) {
      if (waited > 90_000) throw new Error('the stack was not healthy after 90 s')
      await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    // From a container on the project's network, as the app's clients would.
    const page = await execa(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        `${project}_default`,
        'devenvtest-export-base:1',
        'sh',
        '-c',
        'for i in 1 2 3 4; do wget -qO- --header "Host: www.example.test" http://lb/ | head -1; done',
      ],
      { reject: false },
    )
    expect(page.exitCode, page.stderr).toBe(0)
    expect(page.stdout).toContain('Hello from www1')
    expect(page.stdout).toContain('Hello from www2')
  }, 300_000)
})

describe.skipIf(unavailable)('export compose, then docker-compose up, of image services with replicas: 2', () => {
  let folder: string
  let gatePort: number
  const project = `devenvtest-export-up-${process.pid}`
  const compose = (...args: string[]) =>
    execa('docker-compose', ['-p', project, '-f', 'compose.yaml', ...args], { cwd: folder, reject: false })

  beforeAll(async () => {
    folder = copyOf('test/fixtures/export-images', 'images')
    gatePort = await freePort()
    await importBusyboxBase(BASE_IMAGE)
  }, 60_000)

  afterAll(async () => {
    if (folder) await compose('down', '-v', '--remove-orphans', '-t', '1')
    await execa('docker', ['rmi', '-f', WEB_IMAGE, BASE_IMAGE], { reject: false })
    removeFolder(folder)
  }, 60_000)

  it('the CLI writes the file 0600, and the schema and docker-compose config accept it', async () => {
    const result = await devenv(['export', 'compose', '-o', 'compose.yaml', '--json'], {
      cwd: folder,
      env: { GATE_PORT: String(gatePort) },
    })
    expect(result.exitCode, result.stderr).toBe(0)
    const envelope = JSON.parse(result.stdout) as { ok: boolean; result: { file: string; services: string[] } }
    expect(envelope.result.services).toEqual(['web-1', 'web-2', 'gate'])
    expect(envelope.result.file).toBe(path.join(folder, 'compose.yaml'))
    expect(statSync(envelope.result.file).mode & 0o777).toBe(0o600)
    const file = parse(readFileSync(envelope.result.file, 'utf8')) as ComposeFileShape
    expect(composeSpecErrors(file)).toEqual([])
    expect(file.services['web-1']!.networks!.default.aliases).toEqual(['web-1.shop.test', 'web.shop.test', 'web'])
    expect(file.services.gate!.depends_on).toEqual({
      'web-1': { condition: 'service_healthy' },
      'web-2': { condition: 'service_healthy' },
    })
    const config = await compose('config', '-q')
    expect(config.stderr).toBe('')
    expect(config.exitCode).toBe(0)
  })

  it('docker-compose up builds the image locally and every replica answers at its own name and the shared one', async () => {
    const up = await compose('up', '-d', '--build')
    expect(up.exitCode, up.stderr).toBe(0)
    // up -d returns once gate started, which waited for both replicas to be healthy.
    let answer = ''
    for (let attempt = 0; attempt < 50 && !answer.includes('web.shop.test web-'); attempt++) {
      answer = await fetch(`http://127.0.0.1:${gatePort}/cgi-bin/peek`)
        .then((response) => response.text())
        .catch(() => '')
      if (!answer.includes('web.shop.test web-')) await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(answer, `the gate answered: ${answer}`).toContain('web.shop.test web-')
    const lines = Object.fromEntries(
      answer
        .trim()
        .split('\n')
        .map((line) => line.split(' ')),
    )
    expect(lines['web-1.shop.test']).toBe('web-1')
    expect(lines['web-2.shop.test']).toBe('web-2')
    expect(['web-1', 'web-2']).toContain(lines['web.shop.test'])
    expect(['web-1', 'web-2']).toContain(lines.web)
    const ps = await compose('ps')
    expect(ps.stdout).toMatch(/_web-1_1 .*Up \(healthy\)/)
    expect(ps.stdout).toMatch(/_web-2_1 .*Up \(healthy\)/)
  }, 120_000)
})
