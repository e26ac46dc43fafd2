import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runDevenv } from '../support/cli.js'
import { dockerUnavailable } from '../support/docker.js'
import { ensureBusyboxImage } from '../support/docker-images.js'
import { reserveAddressBlock } from '../runtime/helpers.js'

const unavailable = await dockerUnavailable()
if (unavailable) process.stdout.write(`docker suite skipped: ${unavailable}\n`)

interface Status {
  services: Array<{ name: string; state: string; health: string; address: string; ports: Array<{ port: number }> }>
}

/** An image that EXPOSEs 8080, run with no ports in the envfile: published at the service's address, as on the bundled runtime. */
describe.skipIf(unavailable)("the docker provider publishes an image's ExposedPorts", () => {
  const base = mkdtempSync(path.join(tmpdir(), 'devenv-docker-exposed-'))
  const root = path.join(base, 'exposed')
  const env = { DEVENV_HOME: path.join(base, 'home'), DEVENV_HOSTS_FILE: path.join(base, 'hosts'), NO_COLOR: '1' }
  const image = `devenvtest-exposed-${process.pid}:1`
  const run = (args: string[], timeout = 60_000) => runDevenv(args, { cwd: root, env, timeout })

  beforeAll(async () => {
    const busybox = await ensureBusyboxImage()
    const context = path.join(base, 'context')
    mkdirSync(context, { recursive: true })
    writeFileSync(
      path.join(context, 'Dockerfile'),
      `FROM ${busybox}\nRUN mkdir -p /www && echo exposed > /www/index.html\nEXPOSE 8080/tcp\nCMD ["httpd", "-f", "-p", "8080", "-h", "/www"]\n`,
    )
    await execa('docker', ['build', '-q', '-t', image, context])
    mkdirSync(root)
    writeFileSync(
      path.join(root, 'devenv.yaml'),
      `name: exposed\nruntime: docker\nservices:\n  web:\n    image: ${image}\n`,
    )
    reserveAddressBlock(env.DEVENV_HOME, root)
  }, 120_000)

  afterAll(async () => {
    await run(['down']).catch(() => undefined)
    await execa('docker', ['rmi', '-f', image], { reject: false })
    rmSync(base, { recursive: true, force: true })
  }, 60_000)

  it('answers at <address>:8080, readiness is a tcp probe of it, and status lists the port', async () => {
    const up = await run(['up'], 120_000)
    expect(up.exitCode, `${up.stdout}\n${up.stderr}`).toBe(0)
    const status = JSON.parse((await run(['status', '--json'])).stdout).result as Status
    const web = status.services.find((service) => service.name === 'web')!
    expect([web.state, web.health]).toEqual(['running', 'healthy'])
    expect(web.ports.map((port) => port.port)).toEqual([8080])
    expect(await (await fetch(`http://${web.address}:8080/index.html`)).text()).toBe('exposed\n')
  })
})
