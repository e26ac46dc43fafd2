import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, sandbox } from '../cli/run-cli.js'
import { pushRawImage, type RawEntry } from '../images/raw-push.js'
import { CAN_RUN_IMAGES, HAVE_IMAGE_TOOLS, ImageProject, startRegistry, type LocalRegistry } from './harness.js'

/** A one-layer busybox image whose config carries a Healthcheck (umoci cannot set one). */
const BUSYBOX: RawEntry[] = [
  { name: 'bin/', type: 'directory' },
  { name: 'bin/busybox', content: readFileSync('/bin/busybox'), mode: 0o755 },
  ...['sh', 'sleep', 'touch', 'test', 'cat'].map((applet): RawEntry => ({
    name: `bin/${applet}`,
    type: 'symlink',
    linkname: 'busybox',
  })),
  { name: 'tmp/', type: 'directory', mode: 0o1777 },
  { name: 'inside-only', content: 'only in the image\n' },
]

describe.skipIf(!HAVE_IMAGE_TOOLS || !CAN_RUN_IMAGES)("an image service's health", () => {
  let registry: LocalRegistry
  let image: string

  beforeAll(async () => {
    registry = await startRegistry()
    await pushRawImage(registry.host, 'tools/slow', '1', [BUSYBOX], 'amd64', {
      Cmd: ['/bin/sh', '-c', 'sleep 1.5; touch /tmp/ready; exec sleep 1000'],
      Env: ['PATH=/bin'],
      Healthcheck: {
        Test: ['CMD-SHELL', 'test -e /tmp/ready'],
        Interval: 100_000_000,
        Timeout: 2_000_000_000,
        Retries: 3,
      },
    })
    image = `${registry.host}/tools/slow:1`
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    cleanSandboxes()
  })

  it("the image config's Healthcheck is its probe, run inside it: up waits until it passes", async () => {
    const project = new ImageProject(sandbox('devenv-image-health-home-'))
    project.write(`name: slow\nservices:\n  slow:\n    image: ${image}\n`)
    try {
      const up = await project.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      expect(up.ms).toBeGreaterThan(1500)
      expect(project.state().services.slow!.health).toBe('healthy')
    } finally {
      await project.run(['down', '--no-hosts'])
    }
  })

  it("the envfile's health command runs inside the image too (the file it tests is not on the host)", async () => {
    const project = new ImageProject(sandbox('devenv-image-health-home-'))
    project.write(
      `name: inside\nservices:\n  inside:\n    image: ${image}\n    command: sleep 1000\n    health: { command: "test -e /inside-only" }\n`,
    )
    try {
      const up = await project.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      expect(project.state().services.inside!.health).toBe('healthy')
    } finally {
      await project.run(['down', '--no-hosts'])
    }
  })
})
