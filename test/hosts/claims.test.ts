import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'

/** Two projects on one machine (one machine home, one hosts file) that both want www.shared.test. */
const machine = sandbox('devenv-claims-')
const env = { DEVENV_HOME: path.join(machine, 'home'), DEVENV_HOSTS_FILE: path.join(machine, 'hosts'), NO_COLOR: '1' }
writeFileSync(env.DEVENV_HOSTS_FILE, '127.0.0.1\tlocalhost\n')

function project(name: string): string {
  const folder = path.join(machine, name)
  mkdirSync(folder)
  writeFileSync(
    path.join(folder, 'devenv.yaml'),
    `name: ${name}\nservices:\n  web:\n    command: node -e "setInterval(() => {}, 1000)"\n    hostnames: [www.shared.test, ${name}.shared.test]\n`,
  )
  return folder
}

const first = project('first')
const second = project('second')
afterAll(async () => {
  for (const folder of [first, second]) await devenv(['down'], { cwd: folder, env, timeout: 30_000 })
  cleanSandboxes()
})

const hosts = (): string => readFileSync(env.DEVENV_HOSTS_FILE, 'utf8')

describe('a hostname held by a running project', () => {
  it('is refused to a second project, naming the first; nothing of the second starts or is written', async () => {
    const up = await devenv(['up'], { cwd: first, env, timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
    const before = hosts()
    const refused = await devenv(['up'], { cwd: second, env, timeout: 60_000 })
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain(`hostname www.shared.test is held by project first (${first}), which is running`)
    expect(refused.stderr).toMatch(/devenv down in/)
    expect(refused.stderr).not.toMatch(STACK_LINE)
    expect(hosts()).toBe(before)
    const status = JSON.parse((await devenv(['status', '--json'], { cwd: second, env })).stdout).result as {
      services: Array<{ state: string }>
    }
    expect(status.services.every((service) => service.state !== 'running')).toBe(true)
  })

  it("is the second project's once the first is down", async () => {
    expect((await devenv(['down'], { cwd: first, env, timeout: 30_000 })).exitCode).toBe(0)
    const up = await devenv(['up'], { cwd: second, env, timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
    expect(hosts()).toMatch(/# >>> devenv second .*\n.*\n127\.64\.\S+\twww\.shared\.test second\.shared\.test\n/)
  })

  it('left in the block of a project that is not running (a crash), is taken over: mapped once, to the new project', async () => {
    expect((await devenv(['down'], { cwd: second, env, timeout: 30_000 })).exitCode).toBe(0)
    const gone = path.join(machine, 'crashed')
    writeFileSync(
      env.DEVENV_HOSTS_FILE,
      `${hosts()}# >>> devenv crashed (${gone}) >>>\n127.64.200.2\twww.shared.test crashed.shared.test\n# <<< devenv crashed <<<\n`,
    )
    const apply = await devenv(['hosts', 'apply', '--no-sudo'], { cwd: second, env })
    expect(apply.exitCode, apply.stderr).toBe(0)
    expect(apply.stdout).toContain(`took over www.shared.test from crashed (${gone}, not running)`)
    expect(hosts()).toContain('127.64.200.2\tcrashed.shared.test\n')
    expect(hosts().match(/www\.shared\.test/g)).toHaveLength(1)
  })
})
