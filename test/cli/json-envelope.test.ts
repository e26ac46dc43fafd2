import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BIN, cleanSandboxes, REPO, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

/**
 * How each command is run for the check, in order (up before what needs a running stack, down
 * and destroy last). Every command that takes --json must be here: a new one fails the test
 * below until it is added. Some end in an error on purpose: that envelope is checked too.
 */
const RUNS: Array<[id: string, args: string[]]> = [
  ['validate', []],
  ['config', []],
  ['init', ['--list']],
  ['lock', []],
  ['verify', []],
  ['build', []],
  ['up', ['--no-hosts', '--skip-verify']],
  ['status', ['idle']],
  ['logs', ['idle', '-n', '5']],
  ['restart', ['idle']],
  ['stop', ['idle']],
  ['open', []],
  ['global-status', []],
  ['hosts:show', []],
  ['hosts:apply', ['--no-sudo']],
  ['hosts:remove', ['--no-sudo']],
  ['hosts:allow', ['dev.example.com']],
  ['hosts:allowed', []],
  ['hosts:disallow', ['dev.example.com']],
  ['tls:ca', []],
  ['tls:trust', ['--dry-run']],
  ['box:list', []],
  ['box:export', ['nope']],
  ['box:import', ['missing.tar']],
  ['box:remove', ['nope']],
  ['image:pull', ['127.0.0.1:1/nothing:here']],
  ['image:ls', []],
  ['image:rm', ['nope']],
  ['image:prune', []],
  ['image:export', ['nope', '-o', 'nope.tar']],
  ['image:import', ['missing.tar']],
  ['commit', ['idle', 'mine']],
  ['snapshot', []],
  ['snapshot:list', []],
  ['snapshot:save', ['idle', 'first']],
  ['snapshot:restore', ['idle', 'first']],
  ['snapshot:delete', ['idle', 'first']],
  ['db:dump', ['-o', 'out.sql']],
  ['db:import', ['dump.sql']],
  ['db:reset', []],
  ['db:seed', []],
  ['mail:list', []],
  ['mail:show', ['1']],
  ['mail:clear', []],
  ['export:compose', []],
  ['export:kubernetes', ['-o', 'k8s']],
  ['deploy:swarm', []],
  ['undeploy:swarm', []],
  ['poweroff', []],
  ['down', ['--no-hosts']],
  ['destroy', ['--force', '--no-hosts']],
]

interface Envelope {
  ok: boolean
  warnings: unknown[]
  result?: unknown
  error?: { code: string; message: string; exitCode: number }
}

describe('one --json envelope across commands', () => {
  let project: string
  let env: Record<string, string>

  beforeAll(() => {
    project = sandbox()
    env = { DEVENV_HOME: sandbox(), DEVENV_HOSTS_FILE: path.join(sandbox(), 'hosts'), NO_COLOR: '1' }
    writeFileSync(
      path.join(project, 'devenv.yaml'),
      'name: envelope\nservices:\n  idle:\n    command: node -e "setInterval(() => {}, 1000)"\n',
    )
    writeFileSync(path.join(project, 'dump.sql'), 'select 1;\n')
  })

  afterAll(async () => {
    await execa(BIN, ['down', '--no-hosts'], { cwd: project, env, reject: false })
  })

  it('every command that takes --json is run below', () => {
    const manifest = JSON.parse(readFileSync(path.join(REPO, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { enableJsonFlag?: boolean }>
    }
    const reporting = Object.entries(manifest.commands)
      .filter(([, command]) => command.enableJsonFlag)
      .map(([id]) => id)
    expect(RUNS.map(([id]) => id).sort()).toEqual(reporting.sort())
  })

  it.each(RUNS)('devenv %s --json prints { ok, result | error, warnings }', async (id, args) => {
    const result = await execa(BIN, [...id.split(':'), ...args, '--json'], {
      cwd: project,
      env,
      reject: false,
      timeout: 60_000,
    })
    let envelope: Envelope
    try {
      envelope = JSON.parse(result.stdout) as Envelope
    } catch {
      throw new Error(`stdout of devenv ${id} is not one JSON document:\n${result.stdout}\n${result.stderr}`)
    }
    expect(Object.keys(envelope).sort()).toEqual(
      envelope.error ? ['error', 'ok', 'warnings'] : ['ok', 'result', 'warnings'],
    )
    expect(envelope.ok).toBe(result.exitCode === 0)
    expect(Array.isArray(envelope.warnings)).toBe(true)
    for (const warning of envelope.warnings) expect(typeof warning).toBe('string')
    if (envelope.error) {
      expect(envelope.error).toMatchObject({
        code: expect.any(String),
        message: expect.any(String),
        exitCode: result.exitCode,
      })
    }
    // Warnings are in the document, not on stderr
    expect(result.stderr).not.toMatch(/^warning /m)
  })

  it("the runtime's notices (a supervisor that died) are warnings too", async () => {
    const up = await execa(BIN, ['up', '--no-hosts', '--json'], { cwd: project, env, reject: false, timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
    const supervisor = JSON.parse(readFileSync(path.join(project, '.devenv', 'supervisor.json'), 'utf8')) as {
      pid: number
    }
    process.kill(supervisor.pid, 'SIGKILL')
    const again = await execa(BIN, ['up', '--no-hosts', '--json'], {
      cwd: project,
      env,
      reject: false,
      timeout: 60_000,
    })
    const envelope = JSON.parse(again.stdout) as Envelope
    expect(envelope.ok, again.stderr).toBe(true)
    expect(envelope.warnings).toEqual([
      expect.stringMatching(/^the supervisor had died; stopped the services it left running \(idle\)/),
    ])
    expect(again.stderr).not.toMatch(/supervisor had died/)
  })

  it('a warning goes into warnings, not to stderr', async () => {
    const result = await execa(BIN, ['up', '--no-hosts', '--skip-verify', '--json'], {
      cwd: project,
      env,
      reject: false,
      timeout: 60_000,
    })
    const envelope = JSON.parse(result.stdout) as Envelope
    expect(envelope.ok, result.stderr).toBe(true)
    expect(envelope.warnings).toEqual([
      expect.stringMatching(/^--skip-verify: NOT checking files against devenv\.lock/),
    ])
    expect(result.stderr).not.toMatch(/skip-verify/)
  })
})
