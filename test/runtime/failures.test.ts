// How `up` fails: a crash loop, a port someone else holds. Each names the culprit and exits 1.
import { describe, expect, it } from 'vitest'
import { freePort, projectsOfEachTest, service } from './helpers.js'

describe('up when a service cannot run', () => {
  const { open, holdPort } = projectsOfEachTest()

  it('a service crashing in a loop ends `failed` after max_restarts and `up` names it with its last log lines', async () => {
    const project = open('runtime-crash')
    const started = Date.now()
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toMatch(/flaky/)
    expect(up.stderr).toContain('fatal: cannot read config/flaky.conf (simulated)')
    expect(up.stderr).not.toMatch(/^ {4}at /m)
    // max_restarts 2 with a 100 ms backoff (doubling): well under the 120 s readiness deadline.
    expect(Date.now() - started).toBeLessThan(15_000)
    const status = await project.status()
    const flaky = service(status, 'flaky')
    expect(flaky.state).toBe('failed')
    expect(flaky.restarts).toBe(2)
    expect(flaky.pid).toBeNull()
    const logs = JSON.parse((await project.run(['logs', 'flaky', '--json', '-n', '1000'])).stdout).result as {
      lines: Array<{ text: string }>
    }
    expect(logs.lines.filter((line) => /^flaky pid \d+ starting$/.test(line.text))).toHaveLength(3)
    expect(project.processes().filter((info) => info.command === 'node crash.mjs')).toEqual([])
  })

  it("a port held by another process: `up` exits 1 naming the port and the holder's pid", async () => {
    const project = open('runtime-port')
    const port = await freePort()
    project.usePort(18931, port)
    const holder = await holdPort(port)
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toMatch(/blocked/)
    expect(up.stderr).toContain(`port ${port}`)
    expect(up.stderr).toContain(`pid ${holder.pid}`)
    expect(up.stderr).not.toMatch(/^ {4}at /m)
    expect(service(await project.status(), 'blocked').state).toBe('failed')
  })
})
