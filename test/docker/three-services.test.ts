import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDevenv } from '../support/cli.js'
import { dockerUnavailable } from '../support/docker.js'
import { ensureBusyboxImage, labelledObjects } from '../support/docker-images.js'
import { waitFor } from '../support/net.js'
import { reserveAddressBlock } from '../runtime/helpers.js'

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'docker-three')
const unavailable = await dockerUnavailable()
if (unavailable) process.stdout.write(`docker suite skipped: ${unavailable}\n`)

interface Status {
  services: Array<{ name: string; state: string; health: string; address: string }>
}

/**
 * An envfile of three services on the docker provider: one built from a Dockerfile, one from an
 * image with a watched bind mount, one with a health command; through the built CLI.
 */
describe.skipIf(unavailable)('three services on the docker provider', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'devenv-docker-three-'))
  const root = path.join(base, 'three')
  const env = { DEVENV_HOME: path.join(base, 'home'), DEVENV_HOSTS_FILE: path.join(base, 'hosts'), NO_COLOR: '1' }
  const unlabelled = `devenvtest-unlabelled-${process.pid}`
  const committedImage = `devenvtest-committed-${process.pid}:1`
  const run = (args: string[], timeout = 60_000) => runDevenv(args, { cwd: root, env, timeout })
  const status = async (): Promise<Status> => JSON.parse((await run(['status', '--json'])).stdout).result as Status
  const address = async (name: string): Promise<string> =>
    (await status()).services.find((service) => service.name === name)!.address

  beforeAll(async () => {
    cpSync(FIXTURE, root, { recursive: true })
    reserveAddressBlock(env.DEVENV_HOME, root)
    await ensureBusyboxImage()
    await execa('docker', ['create', '--name', unlabelled, 'devenvtest/busybox:1', 'sleep', '1000'])
    const up = await run(['up'], 120_000)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
  }, 180_000)

  afterAll(async () => {
    await run(['down']).catch(() => undefined)
    await execa('docker', ['rm', '-f', unlabelled], { reject: false })
    await execa('docker', ['rmi', '-f', committedImage], { reject: false })
    const images = await execa('docker', ['images', '-q', '--filter', `label=dev.devenv.project=${root}`], {
      reject: false,
    })
    for (const image of images.stdout.split('\n').filter(Boolean))
      await execa('docker', ['rmi', '-f', image], { reject: false })
    rmSync(base, { recursive: true, force: true })
  }, 60_000)

  it('brings all three to running and healthy, each at its own address', async () => {
    const services = (await status()).services
    expect(services.map((service) => [service.name, service.state, service.health])).toEqual([
      ['built', 'running', 'healthy'],
      ['watched', 'running', 'healthy'],
      ['checked', 'running', 'healthy'],
    ])
    expect(new Set(services.map((service) => service.address)).size).toBe(3)
    const page = await fetch(`http://${await address('built')}:8080/index.html`)
    expect(await page.text()).toBe('built from a Dockerfile\n')
  })

  it('resolves every service by its hostnames from a container on the project network', async () => {
    const network = (await labelledObjects(root)).networks[0]!
    const probe = await execa(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        network,
        'devenvtest/busybox:1',
        'sh',
        '-c',
        'wget -qO- http://built:8080/index.html && wget -qO- http://watched.three.test:8080/ && nslookup checked.three.test >/dev/null && echo resolved',
      ],
      { reject: false },
    )
    expect(probe.exitCode, probe.stderr).toBe(0)
    expect(probe.stdout).toBe('built from a Dockerfile\nfirst version\nresolved')
  })

  it('restarts the watched service when a file in its mount changes', async () => {
    writeFileSync(path.join(root, 'site', 'message'), 'second version\n')
    const watched = await address('watched')
    await waitFor(
      'the new message served',
      async () =>
        (await (await fetch(`http://${watched}:8080/`).catch(() => undefined))?.text()) === 'second version\n',
      20_000,
    )
    const log = (): string => readFileSync(path.join(root, '.devenv', 'logs', 'docker-watcher.log'), 'utf8')
    await waitFor('the watcher to say so', () => /watched: restarted/.test(log()), 10_000)
    expect(log()).toMatch(/watched: message changed/)
  })

  it('rebuilds and recreates the service built from a Dockerfile when its build context changes', async () => {
    const built = await address('built')
    expect(await (await fetch(`http://${built}:8080/page.txt`)).text()).toBe('page one\n')
    writeFileSync(path.join(root, 'built', 'page.txt'), 'page two\n')
    await waitFor(
      'the rebuilt page',
      async () =>
        (await (await fetch(`http://${built}:8080/page.txt`).catch(() => undefined))?.text()) === 'page two\n',
      60_000,
    )
  })

  it("snapshots a service's data and restores it", async () => {
    const data = path.join(root, '.devenv', 'services', 'checked', 'data', 'kept.txt')
    await waitFor('the data file', () => readFileSync(data, 'utf8') === 'kept\n', 10_000)
    const saved = await run(['snapshot', 'save', 'checked', 'before'])
    expect(saved.exitCode, saved.stderr).toBe(0)
    writeFileSync(data, 'broken\n')
    const restored = await run(['snapshot', 'restore', 'checked', 'before'])
    expect(restored.exitCode, restored.stderr).toBe(0)
    expect(readFileSync(data, 'utf8')).toBe('kept\n')
    expect((await status()).services.find((service) => service.name === 'checked')!.state).toBe('running')
  })

  it('exec runs in the container; logs show its output', async () => {
    const exec = await run(['exec', 'watched', '--', 'cat', '/site/message'])
    expect(exec.exitCode, exec.stderr).toBe(0)
    expect(exec.stdout).toBe('second version')
    const logs = await run(['logs', 'watched'])
    expect(logs.stdout).toMatch(/watched \| started/)
  })

  it('commit makes an engine image, data included, that another project runs with image:', async () => {
    const data = path.join(root, '.devenv', 'services', 'checked', 'data', 'kept.txt')
    writeFileSync(data, 'committed state\n')
    const committed = await run(['commit', 'checked', `${committedImage}`, '--json'])
    expect(committed.exitCode, committed.stderr).toBe(0)
    expect(JSON.parse(committed.stdout).result.image.image).toBe(committedImage)
    const other = path.join(base, 'other')
    mkdirSync(other)
    writeFileSync(
      path.join(other, 'devenv.yaml'),
      `name: other\nruntime: docker\nservices:\n  copy:\n    image: ${committedImage}\n`,
    )
    const otherRun = (args: string[]) => runDevenv(args, { cwd: other, env, timeout: 60_000 })
    try {
      const up = await otherRun(['up'])
      expect(up.exitCode, up.stderr).toBe(0)
      expect(readFileSync(path.join(other, '.devenv', 'services', 'copy', 'data', 'kept.txt'), 'utf8')).toBe(
        'committed state\n',
      )
    } finally {
      await otherRun(['down'])
    }
  })

  it('down removes every object it made and nothing else: an unlabelled container survives', async () => {
    expect((await labelledObjects(root)).containers).toHaveLength(3)
    const down = await run(['down'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(await labelledObjects(root)).toEqual({ containers: [], networks: [] })
    const survivor = await execa('docker', ['inspect', '--format', '{{.Name}}', unlabelled])
    expect(survivor.stdout).toBe(`/${unlabelled}`)
    const after = await status()
    expect(after.services.map((service) => service.state)).toEqual(['stopped', 'stopped', 'stopped'])
  })
})
