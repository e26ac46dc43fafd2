import { cpSync, symlinkSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { ANSI, cleanSandboxes, devenv, FIXTURES, sandbox, STACK_LINE } from './run-cli.js'

afterAll(cleanSandboxes)

interface Scenario {
  /** test/fixtures/envfile-<fixture>/devenv.yaml */
  fixture: string
  code: string
  line: number
  column: number
  /** The field path, when the problem is in a field (a syntax error is not). */
  path?: string
  message: RegExp
  env?: Record<string, string | undefined>
}

const scenarios: Scenario[] = [
  { fixture: 'yaml-syntax', code: 'ENVFILE_SYNTAX', line: 6, column: 3, message: /YAML syntax error: Flow sequence/ },
  {
    fixture: 'wrong-type',
    code: 'ENVFILE_SCHEMA',
    line: 5,
    column: 12,
    path: 'services.web.ports',
    message: /must be array, not string "eighty"/,
  },
  {
    fixture: 'port-too-high',
    code: 'ENVFILE_SCHEMA',
    line: 5,
    column: 19,
    path: 'services.web.ports[1]',
    message: /70000 is out of range.*1-65535/,
  },
  {
    fixture: 'port-zero',
    code: 'ENVFILE_SCHEMA',
    line: 5,
    column: 13,
    path: 'services.web.ports[0]',
    message: /0 is out of range.*1-65535/,
  },
  {
    fixture: 'unknown-key',
    code: 'ENVFILE_SCHEMA',
    line: 6,
    column: 5,
    path: 'services.web.depends_onn',
    message: /unknown key "depends_onn" \(did you mean depends_on\?\)/,
  },
  {
    fixture: 'unknown-box',
    code: 'ENVFILE_INVALID',
    line: 4,
    column: 10,
    path: 'services.db.box',
    message: /unknown box "postgress" \(did you mean postgres\?\)/,
  },
  {
    fixture: 'unknown-dependency',
    code: 'ENVFILE_INVALID',
    line: 6,
    column: 18,
    path: 'services.web.depends_on[0]',
    message: /depends on unknown service "psq" \(did you mean psql\?\)/,
  },
  {
    fixture: 'unknown-backend',
    code: 'ENVFILE_INVALID',
    line: 5,
    column: 22,
    path: 'services.lb.backends[1]',
    message: /balances unknown service "wwww2" \(did you mean www2\?\)/,
  },
  {
    fixture: 'cycle',
    code: 'ENVFILE_INVALID',
    line: 5,
    column: 17,
    path: 'services.a.depends_on',
    message: /dependency cycle: a → b → c → a/,
  },
  {
    fixture: 'duplicate-hostname',
    code: 'ENVFILE_INVALID',
    line: 10,
    column: 35,
    path: 'services.www2.hostnames[1]',
    message: /hostname www\.example\.test is claimed by both www1 and www2/,
  },
  {
    fixture: 'duplicate-publish',
    code: 'ENVFILE_INVALID',
    line: 10,
    column: 15,
    path: 'services.www2.publish[0]',
    message: /host port 81 is published by both www1 and www2/,
  },
  {
    fixture: 'mount-escape',
    code: 'ENVFILE_INVALID',
    line: 6,
    column: 19,
    path: 'services.web.mounts[0].source',
    message: /path "\.\.\/x" leads outside the project folder/,
  },
  {
    fixture: 'undefined-variable',
    code: 'ENVFILE_VARIABLE',
    line: 6,
    column: 32,
    path: 'services.ftp.users[0].password',
    message: /variable FIXTURE_FTP_PASSWORD is not set/,
    env: { FIXTURE_FTP_PASSWORD: undefined },
  },
  {
    fixture: 'service-name',
    code: 'ENVFILE_INVALID',
    line: 3,
    column: 3,
    path: 'services.Web_1',
    message: /service name "Web_1" is not a DNS label/,
  },
  {
    fixture: 'alias-bomb',
    code: 'ENVFILE_SYNTAX',
    line: 3,
    column: 10,
    path: 'x-b[0]',
    message: /too many YAML aliases/,
  },
]

describe('bad envfiles: exit 2, say where and what, no stack trace', () => {
  for (const scenario of scenarios) {
    const folder = path.join(FIXTURES, `envfile-${scenario.fixture}`)
    const file = path.join(folder, 'devenv.yaml')

    it(`${scenario.fixture}: validate names file:line:col and the field`, async () => {
      const result = await devenv(['validate'], { cwd: folder, env: scenario.env })
      expect(result.exitCode).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toMatch(scenario.message)
      const where = `${file}:${scenario.line}:${scenario.column}` + (scenario.path ? ` (${scenario.path})` : '')
      expect(result.stderr).toContain(`at ${where}`)
      expect(result.stderr).not.toMatch(STACK_LINE)
      expect(result.stderr).not.toMatch(ANSI)
    })

    it(`${scenario.fixture}: --json prints one { error } document`, async () => {
      const result = await devenv(['validate', '--json'], { cwd: folder, env: scenario.env })
      expect(result.exitCode).toBe(2)
      const { error } = JSON.parse(result.stdout) as { error: Record<string, unknown> }
      expect(error).toMatchObject({
        code: scenario.code,
        exitCode: 2,
        location: {
          file,
          line: scenario.line,
          column: scenario.column,
          ...(scenario.path ? { path: scenario.path } : {}),
        },
      })
      expect(error.message).toMatch(scenario.message)
      expect(result.stdout).not.toMatch(STACK_LINE)
    })
  }

  it('a mount whose source is a symlink leading outside the project is refused', async () => {
    const project = path.join(sandbox(), 'project')
    cpSync(path.join(FIXTURES, 'envfile-mount-symlink'), project, { recursive: true })
    mkdirSync(path.join(project, '..', 'elsewhere', 'data'), { recursive: true })
    // Before the link exists the source is missing; the refusal below is the link's doing.
    const before = await devenv(['validate'], { cwd: project })
    expect(before.exitCode).toBe(2)
    expect(before.stderr).toMatch(/mount source outside\/data does not exist/)
    symlinkSync(path.join(project, '..', 'elsewhere'), path.join(project, 'outside'))
    const result = await devenv(['validate', '--json'], { cwd: project })
    expect(result.exitCode).toBe(2)
    const { error } = JSON.parse(result.stdout) as { error: { code: string; message: string; location: object } }
    expect(error.code).toBe('ENVFILE_INVALID')
    expect(error.message).toMatch(/path "\.\/outside\/data" leads outside the project folder/)
    expect(error.location).toMatchObject({ line: 7, column: 19, path: 'services.web.mounts[0].source' })
  })

  it('--debug (and only --debug) adds the stack trace', async () => {
    const folder = path.join(FIXTURES, 'envfile-port-zero')
    const plain = await devenv(['validate'], { cwd: folder })
    const debug = await devenv(['validate', '--debug'], { cwd: folder })
    expect(plain.exitCode).toBe(2)
    expect(debug.exitCode).toBe(2)
    expect(plain.stderr).not.toMatch(STACK_LINE)
    expect(debug.stderr).toMatch(STACK_LINE)
    expect(debug.stderr).toContain('DevenvError')
  })

  it('NO_COLOR=1 turns colours off even where they are forced on', async () => {
    const folder = path.join(FIXTURES, 'envfile-unknown-box')
    const coloured = await devenv(['validate'], { cwd: folder, env: { FORCE_COLOR: '1' } })
    expect(coloured.stderr).toMatch(ANSI) // proves the check below can fail
    const plain = await devenv(['validate'], { cwd: folder, env: { FORCE_COLOR: '1', NO_COLOR: '1' } })
    expect(plain.exitCode).toBe(2)
    expect(plain.stderr).toMatch(/unknown box "postgress"/)
    expect(plain.stderr).not.toMatch(ANSI)
  })

  it('config refuses a bad envfile the same way validate does', async () => {
    const result = await devenv(['config'], { cwd: path.join(FIXTURES, 'envfile-cycle') })
    expect(result.exitCode).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toMatch(/dependency cycle: a → b → c → a/)
  })

  it('an unknown flag is a usage error (exit 2), not a crash', async () => {
    const result = await devenv(['validate', '--bogus'])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/Nonexistent flag: --bogus/)
    expect(result.stderr).not.toMatch(STACK_LINE)
  })
})
