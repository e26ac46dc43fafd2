// The build step (runs once, skipped when inputs are unchanged, reruns when they change, a failure
// stops `up`), and the project-level commands: global-status and destroy.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGet, RuntimeProject, service } from './helpers.js'

describe('build step, global-status and destroy', () => {
  let project: RuntimeProject
  const builds = (): number =>
    existsSync(path.join(project.root, 'builds.txt'))
      ? readFileSync(path.join(project.root, 'builds.txt'), 'utf8').trim().split('\n').length
      : 0

  beforeAll(() => {
    project = new RuntimeProject('runtime-build')
  })
  afterAll(async () => {
    await project.cleanup()
  })

  it('builds before the first start', async () => {
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    expect(builds()).toBe(1)
    expect(readFileSync(path.join(project.root, 'out.txt'), 'utf8')).toBe('hello v1\n')
    const app = service(await project.status(), 'app')
    expect((await httpGet(app.address, 18933, '/health')).status).toBe(200)
    const logs = JSON.parse((await project.run(['logs', 'app', '--json'])).stdout).result as {
      lines: Array<{ text: string }>
    }
    expect(logs.lines.map((line) => line.text)).toContain('built out.txt')
  })

  it('skips the build when its inputs are unchanged', async () => {
    expect((await project.run(['down', '--no-hosts'])).exitCode).toBe(0)
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    expect(builds()).toBe(1)
  })

  it('builds again when an input changes, and `devenv build` builds on demand', async () => {
    expect((await project.run(['down', '--no-hosts'])).exitCode).toBe(0)
    writeFileSync(path.join(project.root, 'src', 'message.txt'), 'hello v2\n')
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    expect(builds()).toBe(2)
    expect(readFileSync(path.join(project.root, 'out.txt'), 'utf8')).toBe('hello v2\n')
    const build = await project.run(['build', 'app'])
    expect(build.exitCode, build.stderr).toBe(0)
    expect(builds()).toBe(3)
  })

  it('a failing build stops `up` with exit 1 and its last lines', async () => {
    expect((await project.run(['down', '--no-hosts'])).exitCode).toBe(0)
    writeFileSync(path.join(project.root, 'src', 'FAIL'), 'yes\n')
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toMatch(/app/)
    expect(up.stderr).toMatch(/build/)
    expect(up.stderr).toContain('error: src/FAIL says the build is broken')
    expect(up.stderr).not.toMatch(/^ {4}at /m)
    expect(service(await project.status(), 'app').state).toBe('failed')
    expect(project.processes().filter((info) => info.command === 'node server.mjs')).toEqual([])
    rmSync(path.join(project.root, 'src', 'FAIL'))
  })

  it('global-status lists the project and forgets it once its folder is deleted', async () => {
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const listed = JSON.parse((await project.run(['global-status', '--json'])).stdout).result as {
      projects: Array<{
        name: string
        root: string
        supervisor: { running: boolean }
        services: Array<{ name: string; state: string }>
      }>
    }
    const mine = listed.projects.find((entry) => entry.root === project.root)
    expect(mine).toMatchObject({
      name: 'runtime-build',
      supervisor: { running: true },
      services: [{ name: 'app', state: 'running' }],
    })

    const elsewhere = new RuntimeProject('runtime-three', { home: project.home })
    try {
      const other = await elsewhere.run(['up', 'db', '--no-hosts'])
      expect(other.exitCode, other.stderr).toBe(0)
      const both = JSON.parse((await project.run(['global-status', '--json'])).stdout).result as typeof listed
      expect(both.projects.find((entry) => entry.root === elsewhere.root)).toMatchObject({
        name: 'runtime-three',
        supervisor: { running: true },
      })
      expect((await elsewhere.run(['down', '--no-hosts'])).exitCode).toBe(0)
      rmSync(elsewhere.root, { recursive: true, force: true })
      const after = JSON.parse((await project.run(['global-status', '--json'])).stdout).result as typeof listed
      expect(after.projects.map((entry) => entry.root)).toEqual([project.root])
    } finally {
      await elsewhere.cleanup()
    }
  })

  it('destroy without --force and without a terminal exits 2 and deletes nothing; with --force deletes .devenv', async () => {
    const devenvDir = path.join(project.root, '.devenv')
    const refused = await project.run(['destroy'])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/--force/)
    expect(existsSync(devenvDir)).toBe(true)
    expect(service(await project.status(), 'app').state).toBe('running')

    const destroyed = await project.run(['destroy', '--force', '--no-sudo'])
    expect(destroyed.exitCode, destroyed.stderr).toBe(0)
    expect(existsSync(devenvDir)).toBe(false)
    expect(project.processes()).toEqual([])
    expect(existsSync(path.join(project.root, 'devenv.yaml'))).toBe(true)
  })
})
