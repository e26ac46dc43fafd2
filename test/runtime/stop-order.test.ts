// `down` stops each service once every service depending on it has stopped, and not later: a
// service nothing depends on is stopped at once, beside a dependent that takes its time.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuntimeProject } from './helpers.js'

describe('the order down stops services in', () => {
  let project: RuntimeProject

  beforeAll(async () => {
    project = new RuntimeProject('runtime-stop-order')
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
  })
  afterAll(async () => {
    await project.cleanup()
  })

  it('stops db only once app, which depends on it, is done; side at once', async () => {
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    const at = new Map(
      readFileSync(path.join(project.root, 'stops.log'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => line.split(' '))
        .map(([name, what, time]) => [`${name} ${what}`, Number(time)]),
    )
    expect([...at.keys()].sort()).toEqual(['app asked', 'app done', 'db asked', 'db done', 'side asked', 'side done'])
    expect(at.get('db asked')!).toBeGreaterThanOrEqual(at.get('app done')!)
    // app lingers 600 ms: side, which nothing depends on, was not kept waiting behind it.
    expect(at.get('side asked')!).toBeLessThan(at.get('app done')!)
  })
})
