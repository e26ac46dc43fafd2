import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, FIXTURES, sandbox, STACK_LINE } from './run-cli.js'

afterAll(cleanSandboxes)

const VARIABLES = path.join(FIXTURES, 'envfile-variables')
const CLEAN_ENV = { FIXTURE_GREETING: undefined, FIXTURE_FROM_DOTENV: undefined, FIXTURE_WEB_PORT: undefined }

interface WebService {
  command: string
  env: Record<string, string>
  /** "address:hostPort:port", as the envfile writes it */
  publish: string[]
}

async function webService(
  args: string[],
  options: { cwd: string; env?: Record<string, string | undefined> },
): Promise<WebService> {
  const result = await devenv(['config', '--json', ...args], {
    cwd: options.cwd,
    env: { ...CLEAN_ENV, ...options.env },
  })
  expect(result.stderr).toBe('')
  expect(result.exitCode).toBe(0)
  return (JSON.parse(result.stdout).result as { services: { web: WebService } }).services.web
}

describe('finding the envfile', () => {
  it('is found from a subfolder, like git finds .git', async () => {
    const project = path.join(sandbox(), 'project')
    cpSync(VARIABLES, project, { recursive: true })
    const deep = path.join(project, 'src', 'deep')
    mkdirSync(deep, { recursive: true })
    const result = await devenv(['validate', '--json'], { cwd: deep, env: CLEAN_ENV })
    expect(result.exitCode).toBe(0)
    expect(JSON.parse(result.stdout).result.file).toBe(path.join(project, 'devenv.yaml'))
    // .env is read beside the envfile, not in the folder the command runs from
    expect((await webService([], { cwd: deep })).env.FROM_DOTENV).toBe('from-dotenv')
  })

  it('-f names a file or a folder elsewhere', async () => {
    const elsewhere = sandbox()
    const byFile = await devenv(['validate', '--json', '-f', path.join(VARIABLES, 'devenv.yaml')], { cwd: elsewhere })
    expect(byFile.exitCode).toBe(0)
    expect(JSON.parse(byFile.stdout).result.file).toBe(path.join(VARIABLES, 'devenv.yaml'))
    const byFolder = await devenv(['validate', '--json', '--file', VARIABLES], { cwd: elsewhere })
    expect(byFolder.exitCode).toBe(0)
    expect(JSON.parse(byFolder.stdout).result.project).toBe('variables')
  })

  it('-f wins over an envfile in the current folder', async () => {
    const folder = sandbox()
    writeFileSync(path.join(folder, 'devenv.yaml'), 'name: here\nservices: { a: { command: x } }\n')
    writeFileSync(path.join(folder, 'other.yaml'), 'name: there\nservices: { b: { command: y } }\n')
    const result = await devenv(['validate', '--json', '-f', 'other.yaml'], { cwd: folder })
    expect(JSON.parse(result.stdout).result).toMatchObject({ project: 'there', services: ['b'] })
  })

  it('no envfile anywhere: a clear message and exit 2', async () => {
    const empty = sandbox()
    // The walk goes up to /; an envfile in a parent of the temp folder would make this test meaningless.
    let parent = path.dirname(empty)
    for (;;) {
      expect(existsSync(path.join(parent, 'devenv.yaml'))).toBe(false)
      if (path.dirname(parent) === parent) break
      parent = path.dirname(parent)
    }
    const result = await devenv(['validate'], { cwd: empty })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(`no devenv.yaml in ${empty} or any parent folder`)
    expect(result.stderr).toMatch(/devenv init/)
    expect(result.stderr).not.toMatch(STACK_LINE)
    const json = await devenv(['config', '--json'], { cwd: empty })
    expect(json.exitCode).toBe(2)
    expect(JSON.parse(json.stdout).error.code).toBe('ENVFILE_NOT_FOUND')
  })

  it('-f to a file that does not exist: exit 2 naming it', async () => {
    const result = await devenv(['validate', '-f', 'nope.yaml'], { cwd: sandbox() })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/envfile nope\.yaml does not exist/)
  })
})

describe('variables', () => {
  it('${X:-default} fills in, .env beside the envfile fills the gaps, $$ is a $, runtime variables wait', async () => {
    const web = await webService([], { cwd: VARIABLES })
    expect(web.env.GREETING).toBe('hello')
    expect(web.env.FROM_DOTENV).toBe('from-dotenv')
    expect(web.env.PRICE).toBe('$5')
    expect(web.publish[0]).toMatch(/:8081:/)
    expect(web.command).toBe('node server.js --listen ${HOST}:${PORT}')
  })

  it('the shell wins over .env and over defaults', async () => {
    const web = await webService([], {
      cwd: VARIABLES,
      env: { FIXTURE_GREETING: 'hi', FIXTURE_FROM_DOTENV: 'from-shell', FIXTURE_WEB_PORT: '9090' },
    })
    expect(web.env.GREETING).toBe('hi')
    expect(web.env.FROM_DOTENV).toBe('from-shell')
    expect(web.publish[0]).toMatch(/:9090:/)
  })

  it('a variable without a value or a default is refused, and setting it fixes that', async () => {
    const folder = path.join(FIXTURES, 'envfile-undefined-variable')
    const unset = await devenv(['validate'], { cwd: folder, env: { FIXTURE_FTP_PASSWORD: undefined } })
    expect(unset.exitCode).toBe(2)
    expect(unset.stderr).toMatch(/variable FIXTURE_FTP_PASSWORD is not set/)
    expect(unset.stderr).toMatch(/hint: Set FIXTURE_FTP_PASSWORD in the shell or in \.env/)
    const set = await devenv(['validate'], { cwd: folder, env: { FIXTURE_FTP_PASSWORD: 'secret' } })
    expect(set.exitCode).toBe(0)
  })
})
