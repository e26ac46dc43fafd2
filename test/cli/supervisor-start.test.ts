// How `devenv up` starts the supervisor: bin/devenv starts one in standby while the CLI loads and
// hands it the project (src/runtime/bundled/standby.ts); one it does not need leaves no process. And
// devenv's own Node processes start without NODE_EXTRA_CA_CERTS (~50 ms of CPU each), while the
// services keep the user's environment.
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from './run-cli.js'

const CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt'
const linux = process.platform === 'linux'

const ENVFILE = [
  'name: standby',
  'services:',
  '  shell:',
  // The user's environment reaches the services: the service says what it was given.
  `    command: sh -c 'echo "extra=\${NODE_EXTRA_CA_CERTS:-none}"; exec sleep 600'`,
  '    stop_timeout: 1s',
  '  site:',
  '    box: static',
  '    ports: [8080]',
  '',
].join('\n')

const projects: string[] = []
afterAll(async () => {
  for (const root of projects) await devenv(['down', '--no-hosts'], { cwd: root })
  cleanSandboxes()
})

function project(envfile = ENVFILE): string {
  const root = sandbox('devenv-standby-')
  writeFileSync(path.join(root, 'devenv.yaml'), envfile)
  projects.push(root)
  return root
}

const argvOf = (pid: number): string[] => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)
/** A process's environment as it started (later changes to process.env do not show here). */
function startEnvOf(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
  return Object.fromEntries(
    entries.map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)]),
  )
}

/** Standby supervisors (running or waiting) whose working folder is `root`. */
function standbysIn(root: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (argvOf(Number(entry)).includes('--standby') && readlinkSync(`/proc/${entry}/cwd`) === root)
        found.push(Number(entry))
    } catch {
      // gone meanwhile
    }
  }
  return found
}

async function status(
  root: string,
): Promise<{ supervisor: { pid?: number }; services: Array<{ name: string; pid?: number; state: string }> }> {
  const run = await devenv(['status', '--json'], { cwd: root })
  expect(run.exitCode, run.stderr).toBe(0)
  return JSON.parse(run.stdout).result
}

/** The standbys in `root` once they are `expected`, waiting up to 10 s (a loaded machine loads a standby slowly, and only then does it read its stdin). */
async function standbysSettleTo(root: string, expected: number[]): Promise<number[]> {
  const deadline = Date.now() + 10_000
  let found = standbysIn(root)
  while (JSON.stringify(found) !== JSON.stringify(expected) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    found = standbysIn(root)
  }
  return found
}

describe.runIf(linux && existsSync(CA_BUNDLE))('starting the supervisor', () => {
  it('up hands the project to the supervisor bin/devenv started in standby, which logs where the CLI said', async () => {
    const root = project()
    const up = await devenv(['up', '--no-hosts'], { cwd: root, env: { NODE_EXTRA_CA_CERTS: CA_BUNDLE } })
    expect(up.exitCode, up.stderr).toBe(0)
    const { supervisor, services } = await status(root)
    expect(argvOf(supervisor.pid!)).toContain('--standby')
    expect(readlinkSync(`/proc/${supervisor.pid}/cwd`)).toBe(root)
    const log = readFileSync(path.join(root, '.devenv', 'logs', 'supervisor.log'), 'utf8')
    expect(log).toContain(`supervisor ${supervisor.pid} listening on`)

    // devenv's own processes started without the CA bundle; the service got the user's environment.
    expect(startEnvOf(supervisor.pid!).NODE_EXTRA_CA_CERTS).toBeUndefined()
    const site = services.find((service) => service.name === 'site')!
    expect(site.state).toBe('running')
    expect(startEnvOf(site.pid!).NODE_EXTRA_CA_CERTS).toBeUndefined()
    const logs = await devenv(['logs', 'shell', '--json'], { cwd: root })
    const lines = (JSON.parse(logs.stdout).result.lines as Array<{ text: string }>).map((line) => line.text)
    expect(lines).toContain(`extra=${CA_BUNDLE}`)
    const shell = services.find((service) => service.name === 'shell')!
    expect(startEnvOf(shell.pid!).NODE_EXTRA_CA_CERTS).toBe(CA_BUNDLE)
    const exec = await devenv(['exec', 'shell', '--', 'sh', '-c', 'echo $NODE_EXTRA_CA_CERTS'], {
      cwd: root,
      env: { NODE_EXTRA_CA_CERTS: CA_BUNDLE },
    })
    expect(exec.stdout.trim()).toBe(CA_BUNDLE)

    // An up while it runs talks to it: the standby it started goes, and nothing else is left.
    const again = await devenv(['up', '--no-hosts'], { cwd: root })
    expect(again.exitCode, again.stderr).toBe(0)
    expect(await standbysSettleTo(root, [supervisor.pid!])).toEqual([supervisor.pid])
    expect((await status(root)).supervisor.pid).toBe(supervisor.pid)

    const down = await devenv(['down', '--no-hosts'], { cwd: root })
    expect(down.exitCode, down.stderr).toBe(0)
    expect(await standbysSettleTo(root, [])).toEqual([])
  })

  it('a standby the CLI does not use (a bad envfile) exits with the CLI, and nothing is started', async () => {
    const root = project(`${ENVFILE}  broken:\n    command: [1, 2\n`)
    const up = await devenv(['up', '--no-hosts'], { cwd: root })
    expect(up.exitCode).toBe(2)
    expect(await standbysSettleTo(root, [])).toEqual([])
    expect(existsSync(path.join(root, '.devenv', 'supervisor.json'))).toBe(false)
  })

  it('up -f, or with DEVENV_NO_STANDBY=1, spawns the supervisor for the project directly', async () => {
    for (const [args, env] of [
      [['up', '--no-hosts', '-f', 'devenv.yaml'], {}],
      [['up', '--no-hosts'], { DEVENV_NO_STANDBY: '1' }],
    ] as const) {
      const root = project()
      const up = await devenv([...args], { cwd: root, env })
      expect(up.exitCode, up.stderr).toBe(0)
      const { supervisor } = await status(root)
      expect(argvOf(supervisor.pid!)).toEqual(expect.arrayContaining([root]))
      expect(argvOf(supervisor.pid!)).not.toContain('--standby')
      await devenv(['down', '--no-hosts'], { cwd: root })
    }
  })
})
