import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, sandbox } from '../cli/run-cli.js'
import {
  CAN_RUN_IMAGES,
  HAVE_IMAGE_TOOLS,
  ImageProject,
  processesOf,
  publish,
  startRegistry,
  type LocalRegistry,
} from './harness.js'

// Listens on PORT: the image's ExposedPorts give it when the envfile gives no ports.
const SERVE = `#!/bin/sh
mkdir -p /tmp/www
echo "I am $(hostname) on $PORT" > /tmp/www/index.html
exec httpd -f -p "0.0.0.0:\${PORT:-1}" -h /tmp/www
`

interface PublicPort {
  port: number
  bound: number
  address: string
}

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES)("an image's ExposedPorts as the service's ports", () => {
  let registry: LocalRegistry
  let image: string

  beforeAll(async () => {
    registry = await startRegistry()
    image = publish(registry, 'tools/exposed:1', {
      files: { 'bin/serve.sh': SERVE },
      config: { cmd: ['/bin/serve.sh'], ports: ['8080/tcp', '5353/udp'] },
    })
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  it('no ports in the envfile: 8080/tcp is listened at its address, in status, PORT, the default tcp readiness and its peers’ view; udp is said and left', async () => {
    const stack = new ImageProject(sandbox('devenv-image-exposed-home-'))
    stack.write(
      `name: exposed\nservices:\n  web:\n    image: ${image}\n  own:\n    image: ${image}\n    ports: [9090]\n  quiet:\n    image: ${image}\n    health: none\n`,
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const status = await stack.run(['status', '--json'])
      const services = (
        JSON.parse(status.stdout) as {
          result: { services: Array<{ name: string; address: string; health: string; ports: PublicPort[] }> }
        }
      ).result.services
      const byName = Object.fromEntries(services.map((service) => [service.name, service]))
      const web = byName.web!
      expect(web.ports.map((port) => [port.port, port.bound, port.address])).toEqual([[8080, 8080, web.address]])
      // No health in the envfile and no Healthcheck in the image: a tcp probe of its first port, as for declared ports.
      expect(web.health).toBe('healthy')
      expect(await (await fetch(`http://${web.address}:8080/`)).text()).toBe('I am web on 8080\n')
      // The envfile's ports win over the image's.
      expect(byName.own!.ports.map((port) => port.port)).toEqual([9090])
      expect(await (await fetch(`http://${byName.own!.address}:9090/`)).text()).toBe('I am own on 9090\n')
      // health: none stays off.
      expect(byName.quiet!.health).toBe('none')
      expect(byName.quiet!.ports.map((port) => port.port)).toEqual([8080])
      // Its peers reach it by name at the image's port.
      const fromPeer = await stack.run(['exec', 'own', '--', 'wget', '-qO-', 'http://web:8080/'])
      expect(fromPeer.stdout.trim(), fromPeer.stderr).toBe('I am web on 8080')
      const port = await stack.run(['exec', 'web', '--', 'sh', '-c', 'echo $PORT'])
      expect(port.stdout.trim()).toBe('8080')
      // The URL devenv gives for it is at the image's port.
      const open = await stack.run(['open', 'web', '--print'])
      expect(open.stdout.trim(), open.stderr).toBe(`http://${web.address}:8080/`)
      const table = await stack.run(['status'])
      expect(table.stdout).toMatch(new RegExp(`web .* ${web.address.replace(/\./g, '\\.')} +8080`))
      const log = readFileSync(path.join(stack.root, '.devenv', 'logs', 'web.log'), 'utf8')
      expect(log).toContain('5353/udp: only tcp ports are listened')
      expect(log).toContain("ports 8080 from the image's ExposedPorts")
      // A second up changes nothing: the ports resolve the same way.
      const pid = stack.state().services.web!.pid
      const again = await stack.run(['up', '--no-hosts'])
      expect(again.exitCode, again.stderr).toBe(0)
      expect(stack.state().services.web!.pid).toBe(pid)
    } finally {
      const down = await stack.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(stack.root)).toEqual([])
  })
})
