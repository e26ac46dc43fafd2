import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, sandbox } from '../cli/run-cli.js'
import { waitFor } from '../support/net.js'
import { CAN_RUN_IMAGES, ImageProject, processesOf } from './harness.js'

const V2 = existsSync('/sys/fs/cgroup/cgroup.controllers')
const GROUP_FOLDERS = V2 ? ['/sys/fs/cgroup/devenv'] : ['/sys/fs/cgroup/memory/devenv', '/sys/fs/cgroup/cpu/devenv']

function groupsOf(project: string): string[] {
  return GROUP_FOLDERS.flatMap((folder) => {
    try {
      return readdirSync(folder).filter((name) => name.startsWith(`${project}-`))
    } catch {
      return []
    }
  })
}

const HOG = `node -e "const held = []; setInterval(() => { held.push(Buffer.alloc(8 << 20, 1)); console.log('holding', held.length * 8, 'MiB') }, 20)"`
const SPIN = `node -e "for (;;) {}"`

describe.skipIf(!CAN_RUN_IMAGES)('resources: limits through cgroups, on any service', () => {
  afterAll(cleanSandboxes)

  it('a memory limit stops a service that exceeds it, status says what it is held to, and down removes the groups', async () => {
    const project = new ImageProject(sandbox('devenv-limits-home-'))
    project.write(
      `name: limits\nservices:\n  hog:\n    command: ${HOG}\n    restart: "no"\n    resources: { memory: 64m }\n  spin:\n    command: ${SPIN}\n    resources: { cpus: 0.25 }\n`,
    )
    try {
      const up = await project.run(['up', '--no-hosts'])
      expect(up.exitCode, up.stdout + up.stderr).toBe(0)
      const status = await project.run(['status'])
      expect(status.stdout + status.stderr).toContain('hog: limited to memory 64 MiB (cgroup')
      expect(status.stdout + status.stderr).toContain('spin: limited to 0.25 CPUs (cgroup')
      const exited = await waitFor(
        'the hog to be stopped',
        () => {
          const hog = project.state().services.hog!
          return hog.state !== 'running' && hog.state !== 'starting' ? hog : undefined
        },
        30_000,
      )
      expect(exited.state).toMatch(/exited|failed/)
      const log = readFileSync(path.join(project.root, '.devenv/logs/hog.log'), 'utf8')
      const most = Math.max(...[...log.matchAll(/holding (\d+) MiB/g)].map((match) => Number(match[1])))
      expect(most).toBeLessThan(64)
      expect(log).toMatch(/SIGKILL/)

      // A quarter of a CPU: over a second of wall time, the spinner gets about a quarter second.
      const pid = project.state().services.spin!.pid!
      const ticks = (): number => {
        const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
        return Number(fields[11]) + Number(fields[12])
      }
      const before = ticks()
      await new Promise((resolve) => setTimeout(resolve, 2000))
      const used = (ticks() - before) / 100 / 2
      expect(used).toBeLessThan(0.4)
      expect(used).toBeGreaterThan(0.1)
      // The hog's group went when it was stopped; the spinner's is there while it runs.
      expect(groupsOf('limits').map((name) => name.replace(/^limits-[0-9a-f]{8}-/, ''))).toEqual(['spin'])
    } finally {
      const down = await project.run(['down', '--no-hosts'])
      expect(down.exitCode, down.stderr).toBe(0)
    }
    expect(processesOf(project.root)).toEqual([])
    await waitFor('the groups to go', () => groupsOf('limits').length === 0, 5000)
    // And their devenv/ parent, unless another project still has groups there.
    for (const folder of GROUP_FOLDERS)
      if (existsSync(folder))
        expect(
          readdirSync(folder, { withFileTypes: true }).filter((entry) => entry.isDirectory()).length,
        ).toBeGreaterThan(0)
  })

  it('a malformed limit is refused by validate at its line', async () => {
    const project = new ImageProject(sandbox('devenv-limits-home-'))
    project.write(`name: badlimits\nservices:\n  web:\n    command: sleep 100\n    resources:\n      memory: lots\n`)
    const validate = await project.run(['validate'])
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toContain('resources.memory "lots" is not a size')
    expect(validate.stderr).toMatch(/devenv\.yaml:6/)
  })
})
