// Commands at once on one project, and a supervisor that died with its state file damaged: the
// project ends with exactly one copy of each service or none, and every command says what happened.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { freePort, RuntimeProject } from './helpers.js'

const SERVICES = ['api', 'db', 'web']

/** Process groups per service that carry this project's mark: a service runs once when it has one. */
function copiesOf(root: string): Record<string, number> {
  const groups: Record<string, Set<number>> = {}
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0')
      if (!environ.includes(`DEVENV_OWNER=${root}`)) continue
      const service = environ
        .find((variable) => variable.startsWith('DEVENV_SERVICE='))
        ?.slice('DEVENV_SERVICE='.length)
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const group = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2])
      if (service) (groups[service] ??= new Set()).add(group)
    } catch {
      // gone meanwhile
    }
  }
  return Object.fromEntries(Object.entries(groups).map(([service, set]) => [service, set.size]))
}

describe('concurrent commands and damaged state on the bundled runtime', () => {
  let project: RuntimeProject

  beforeEach(async () => {
    project = new RuntimeProject('runtime-three')
    project.usePort(18000, await freePort())
  })
  afterEach(async () => {
    await project.cleanup()
  })

  it('three `up`s at once end with one copy of each service, and each says so truthfully', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => project.run(['up', '--no-hosts'], { timeout: 60_000 })))
    for (const run of runs) expect(run.exitCode, run.stderr).toBe(0)
    expect(copiesOf(project.root)).toEqual({ api: 1, db: 1, web: 1 })
    const status = await project.status()
    expect(status.services.map((service) => [service.name, service.state])).toEqual(
      SERVICES.map((name) => [name, 'running']),
    )
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(copiesOf(project.root)).toEqual({})
  })

  it('`down` right after `up` wins: nothing is left running, and `up` does not claim the stack is up', async () => {
    for (const delayMs of [50, 300, 700]) {
      const up = project.run(['up', '--no-hosts'], { timeout: 60_000 })
      await new Promise((resolve) => setTimeout(resolve, delayMs))
      const down = await project.run(['down', '--no-hosts'], { timeout: 60_000 })
      const upResult = await up
      expect(down.exitCode, down.stderr).toBe(0)
      if (/was not running/.test(down.stdout)) {
        // `down` came before `up` had begun (its process was still starting): then `up` rightly wins, and says so.
        expect(upResult.exitCode, upResult.stderr).toBe(0)
        expect(copiesOf(project.root)).toEqual({ api: 1, db: 1, web: 1 })
        expect((await project.run(['down', '--no-hosts'])).stdout).toMatch(/is down/)
      } else {
        expect(down.stdout).toMatch(/is down/)
        // Whatever `up` managed before `down` arrived is stopped: down won, and `up` does not claim otherwise.
        if (upResult.exitCode !== 0) expect(upResult.stderr).toMatch(/devenv down|supervisor/)
      }
      expect(copiesOf(project.root)).toEqual({})
      const status = await project.status()
      expect(
        status.services.every((service) => service.state !== 'running'),
        JSON.stringify(status.services),
      ).toBe(true)
    }
  })

  it('a dead supervisor and an unreadable state.json: `down` still finds and stops the services, `up` starts cleanly', async () => {
    expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
    process.kill(project.supervisorPid()!, 'SIGKILL')
    writeFileSync(path.join(project.root, '.devenv', 'state.json'), '{ this is not json')
    expect(copiesOf(project.root)).toEqual({ api: 1, db: 1, web: 1 })
    const status = await project.run(['status'])
    expect(status.stderr).toMatch(/state\.json could not be read/)
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(copiesOf(project.root)).toEqual({})
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    expect(copiesOf(project.root)).toEqual({ api: 1, db: 1, web: 1 })
  })

  it('a live supervisor and an unreadable state.json: status asks the supervisor and says why', async () => {
    expect((await project.run(['up', '--no-hosts'])).exitCode).toBe(0)
    const file = path.join(project.root, '.devenv', 'state.json')
    writeFileSync(file, '\0\0garbage')
    const status = await project.run(['status'])
    expect(status.exitCode).toBe(0)
    expect(status.stderr).toMatch(/state\.json could not be read; asked the supervisor instead/)
    expect(status.stdout).toMatch(/api\s+process\s+running/)
    // The supervisor wrote it anew.
    expect(() => JSON.parse(readFileSync(file, 'utf8'))).not.toThrow()
  })
})
