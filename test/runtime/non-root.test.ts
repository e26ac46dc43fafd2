import { chmodSync, chownSync, readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REPO, RuntimeProject } from './helpers.js'

const NOBODY = 65534
const asRoot = process.getuid?.() === 0

/** Runs the CLI as the unprivileged user `nobody`, as a developer on a laptop runs it. */
async function asNobody(
  project: RuntimeProject,
  args: string[],
): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const env = Object.entries({ ...project.env, HOME: project.home, PATH: process.env.PATH }).flatMap(([key, value]) =>
    value === undefined ? [] : [`${key}=${value}`],
  )
  const result = await execa(
    'setpriv',
    [
      '--reuid',
      String(NOBODY),
      '--regid',
      String(NOBODY),
      '--clear-groups',
      'env',
      ...env,
      path.join(REPO, 'bin', 'devenv'),
      ...args,
    ],
    {
      cwd: project.root,
      reject: false,
      timeout: 60_000,
    },
  )
  return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr }
}

function giveToNobody(folder: string): void {
  chownSync(folder, NOBODY, NOBODY)
  for (const entry of readdirSync(folder)) {
    const child = path.join(folder, entry)
    if (statSync(child).isDirectory()) giveToNobody(child)
    else chownSync(child, NOBODY, NOBODY)
  }
}

describe.skipIf(!asRoot)('without root', () => {
  let project: RuntimeProject

  beforeAll(() => {
    project = new RuntimeProject('runtime-privileged')
    const base = path.dirname(project.root)
    chmodSync(base, 0o755)
    giveToNobody(base)
  })

  afterAll(async () => {
    await asNobody(project, ['down'])
    await project.cleanup()
  })

  it('serves privileged ports on stable high ports, says so, and answers there', async () => {
    const up = await asNobody(project, ['up'])
    expect(up.exitCode, up.stderr).toBe(0)
    expect(up.stderr).toContain('port 80 is privileged and devenv is not root: 80 is served on')
    expect(up.stderr).toContain('port 81 is privileged and devenv is not root: published on 127.0.0.1:')
    const status = JSON.parse((await asNobody(project, ['status', '--json'])).stdout).result as {
      services: Array<{
        address: string
        ports: Array<{ port: number; bound: number; published: { port: number } | null }>
      }>
    }
    const web = status.services[0]!
    const port = web.ports[0]!
    expect(port.port).toBe(80)
    expect(port.bound).toBeGreaterThan(1023)
    expect(port.published!.port).toBeGreaterThan(1023)
    const direct = await fetch(`http://${web.address}:${port.bound}/x`)
    expect(((await direct.json()) as { name: string }).name).toBe('web')
    const published = await fetch(`http://127.0.0.1:${port.published!.port}/x`)
    expect(((await published.json()) as { name: string }).name).toBe('web')
  })
})
