import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { knownProjects, rememberProject } from '../../src/state/index.js'

describe('the registry of projects (global-status)', () => {
  let home: string
  const saved = process.env.DEVENV_HOME
  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'devenv-projects-'))
    process.env.DEVENV_HOME = home
  })
  afterEach(() => {
    if (saved === undefined) delete process.env.DEVENV_HOME
    else process.env.DEVENV_HOME = saved
    rmSync(home, { recursive: true, force: true })
  })
  const registry = (): string => path.join(home, 'projects.json')
  const project = {
    name: 'shop',
    root: path.join(os.tmpdir(), 'shop'),
    envfile: path.join(os.tmpdir(), 'shop', 'devenv.yaml'),
  }

  it('an up of a project listed as it is leaves the file alone; a changed entry replaces the old one', async () => {
    await rememberProject(project)
    const first = readFileSync(registry(), 'utf8')
    const written = statSync(registry()).mtimeMs
    await new Promise((resolve) => setTimeout(resolve, 20))
    await rememberProject(project)
    expect(readFileSync(registry(), 'utf8')).toBe(first)
    expect(statSync(registry()).mtimeMs).toBe(written)

    await rememberProject({ ...project, name: 'shop-renamed' })
    await rememberProject({
      name: 'blog',
      root: path.join(os.tmpdir(), 'blog'),
      envfile: path.join(os.tmpdir(), 'blog', 'devenv.yaml'),
    })
    const listed = JSON.parse(readFileSync(registry(), 'utf8')) as Array<{ name: string; root: string }>
    expect(listed.map((known) => known.name)).toEqual(['shop-renamed', 'blog'])
    // knownProjects forgets projects whose envfile is gone (neither exists here).
    expect(await knownProjects()).toEqual([])
  })
})
