import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../support/net.js'
import { cleanSandboxes, sandbox } from '../cli/run-cli.js'
import {
  CAN_RUN_IMAGES,
  HAVE_IMAGE_TOOLS,
  ImageProject,
  processesOf,
  publish,
  relaysRunning,
  startRegistry,
  type LocalRegistry,
} from './harness.js'

const SERVE = `#!/bin/sh
mkdir -p /tmp/www
echo "I am $(hostname)" > /tmp/www/index.html
exec httpd -f -p 0.0.0.0:8080 -h /tmp/www
`

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES)('each image service in a network namespace of its own', () => {
  let registry: LocalRegistry
  let image: string
  const project = (): ImageProject => new ImageProject(sandbox('devenv-image-net-home-'))

  beforeAll(async () => {
    registry = await startRegistry()
    image = publish(registry, 'tools/web:1', {
      files: { 'bin/serve.sh': SERVE },
      config: { cmd: ['/bin/serve.sh'], ports: ['8080/tcp'] },
    })
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  it('two services of one image both listen on 0.0.0.0:8080, answer at their own addresses and reach each other by name', async () => {
    const stack = project()
    stack.write(
      `name: twins\nservices:\n  left:\n    image: ${image}\n    ports: [8080]\n    health: { http: / }\n  right:\n    image: ${image}\n    ports: [8080]\n    hostnames: [right.twins.test]\n    health: { http: / }\n`,
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const { left, right } = stack.state().services
      // status names the image where other services name their box.
      const status = await stack.run(['status'])
      expect(status.stdout).toMatch(
        new RegExp(`left +${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +running +healthy`),
      )
      expect(left!.address).not.toBe(right!.address)
      expect(await (await fetch(`http://${left!.address}:8080/`)).text()).toBe('I am left\n')
      expect(await (await fetch(`http://${right!.address}:8080/`)).text()).toBe('I am right\n')

      const byName = await stack.run(['exec', 'left', '--', 'wget', '-qO-', 'http://right:8080/'])
      expect(byName.stdout.trim(), byName.stderr).toBe('I am right')
      const byHostname = await stack.run(['exec', 'right', '--', 'wget', '-qO-', 'http://left:8080/'])
      expect(byHostname.stdout.trim()).toBe('I am left')
      const other = await stack.run(['exec', 'left', '--', 'wget', '-qO-', 'http://right.twins.test:8080/'])
      expect(other.stdout.trim()).toBe('I am right')
      // Its own namespace: only lo and its side of the pair, no host interface.
      const links = await stack.run(['exec', 'left', '--', 'cat', '/proc/net/dev'])
      expect(
        links.stdout
          .split('\n')
          .slice(2)
          .map((line) => line.split(':')[0]!.trim())
          .filter(Boolean)
          .sort(),
      ).toEqual(['eth0', 'lo'])
    } finally {
      const down = await stack.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(stack.root)).toEqual([])
    // The relays (and with them the gateways' namespaces) went with their services.
    expect(relaysRunning(stack.root)).toEqual([])
  })

  it('reaches a host service of the project by name, and the host service reaches it', async () => {
    const stack = project()
    stack.write(
      `name: mixed\nservices:\n  web:\n    image: ${image}\n    ports: [8080]\n    health: { http: / }\n  api:\n    command: node -e "require('http').createServer((q, s) => s.end('api here')).listen(process.env.PORT, process.env.HOST)"\n    ports: [9090]\n    health: { http: / }\n`,
    )
    try {
      const up = await stack.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const fromImage = await stack.run(['exec', 'web', '--', 'wget', '-qO-', 'http://api:9090/'])
      expect(fromImage.stdout).toBe('api here')
      const address = stack.state().services.web!.address
      const fromHost = await stack.run([
        'exec',
        'api',
        '--',
        'node',
        '-e',
        `fetch('http://${address}:8080/').then(r => r.text()).then(t => process.stdout.write(t))`,
      ])
      expect(fromHost.stdout.trim()).toBe('I am web')
    } finally {
      await stack.run(['down', '--no-hosts'])
    }
    expect(processesOf(stack.root)).toEqual([])
  })

  it('a supervisor killed with -9 leaves nothing that the next up does not clear, relays and namespaces included', async () => {
    const stack = project()
    stack.write(`name: orphans\nservices:\n  web:\n    image: ${image}\n    ports: [8080]\n    health: { http: / }\n`)
    try {
      expect((await stack.run(['up', '--no-hosts'])).exitCode).toBe(0)
      const supervisor = (
        JSON.parse(readFileSync(path.join(stack.root, '.devenv', 'supervisor.json'), 'utf8')) as { pid: number }
      ).pid
      process.kill(supervisor, 'SIGKILL')
      // The relay goes with its supervisor (its IPC channel closes).
      await waitFor('the relay to go', () => relaysRunning(stack.root).length === 0)
      const again = await stack.run(['up', '--no-hosts'])
      expect(again.exitCode, again.stdout + again.stderr).toBe(0)
      const address = stack.state().services.web!.address
      expect(await (await fetch(`http://${address}:8080/`)).text()).toBe('I am web\n')
    } finally {
      await stack.run(['down', '--no-hosts'])
    }
    expect(processesOf(stack.root)).toEqual([])
    expect(relaysRunning(stack.root)).toEqual([])
  })
})
