// What `up` says when a service cannot run: the service's own error, never devenv's plumbing.
import { describe, expect, it } from 'vitest'
import { freePort, projectsOfEachTest, service } from './helpers.js'

describe('failure messages name the cause', () => {
  const { open, holdPort } = projectsOfEachTest()

  it('an app that dies the same way at every start fails within a few seconds, its headline the error', async () => {
    const project = open('runtime-missing-module')
    const started = Date.now()
    const up = await project.run(['up', '--no-hosts'], { timeout: 60_000 })
    const took = Date.now() - started
    expect(up.exitCode).toBe(1)
    const headline = up.stderr.split('\n').find((line) => line.startsWith('✖')) ?? ''
    expect(headline).toContain("Error: Cannot find module 'expresss'")
    expect(headline).toMatch(/3 times in a row/)
    // Three quick deaths with 0.5 s and 1 s of backoff between them, not five restarts over 17 s.
    expect(took).toBeLessThan(8000)
    const app = service(await project.status(), 'app')
    expect(app.state).toBe('failed')
    expect(app.restarts).toBe(2)
  })

  it('a port conflict of a service with mounts shows its own lines, and its start line its own command', async () => {
    const project = open('runtime-mounted-port')
    const port = await freePort()
    project.usePort(18933, port)
    expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
    expect((await project.run(['down', '--no-hosts'])).exitCode).toBe(0)
    await holdPort(port)
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toContain(`port ${port}`)
    for (const plumbing of ['root=$1', 'mount -t tmpfs', 'set -e', 'unshare', 'chroot'])
      expect(up.stderr).not.toContain(plumbing)
    const logs = JSON.parse((await project.run(['logs', 'web', '--json', '-n', '1000'])).stdout).result as {
      lines: Array<{ text: string }>
    }
    const texts = logs.lines.map((line) => line.text)
    expect(texts.filter((text) => /^started pid \d+: node server\.mjs$/.test(text))).toHaveLength(1)
    for (const plumbing of ['root=$1', 'mount -t tmpfs', '/bin/sh -c']) expect(texts.join('\n')).not.toContain(plumbing)
  })
})
