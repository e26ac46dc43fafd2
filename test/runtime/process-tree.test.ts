// A service is its whole process group: what it starts in the background never outlives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { alive, RuntimeProject, service, waitFor } from './helpers.js'

describe('a service that starts helpers of its own', () => {
  let project: RuntimeProject
  beforeAll(() => {
    project = new RuntimeProject('runtime-tree')
  })
  afterAll(async () => {
    await project.cleanup()
  })

  const helpers = () => project.processes().filter((info) => info.command === 'sleep 1000')

  it('when the service is killed, its helper goes with it and the restart brings exactly one new helper', async () => {
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const [helper] = helpers()
    expect(helper).toBeDefined()
    const before = service(await project.status(), 'tree')
    process.kill(before.pid!, 'SIGKILL')
    await waitFor(
      'tree to be restarted',
      async () => {
        const entry = service(await project.status(), 'tree')
        return entry.pid !== before.pid && entry.health === 'healthy' ? entry : undefined
      },
      5_000,
    )
    await waitFor('the old helper to be gone', () => !alive(helper!.pid), 2_000)
    expect(helpers()).toHaveLength(1)
  })

  it('`down` leaves neither the service nor its helper', async () => {
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(project.processes()).toEqual([])
  })

  it('`down` after the supervisor was killed still stops the service and its helper', async () => {
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    process.kill(project.supervisorPid()!, 'SIGKILL')
    await waitFor(
      'the supervisor to die',
      () => !project.processes().some((info) => info.command.includes('supervisor-main.js')),
    )
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(project.processes()).toEqual([])
  })
})
