import { spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, REPO, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

const read = (folder: string, file: string): string => readFileSync(path.join(folder, file), 'utf8')

describe('devenv init', () => {
  it('init --template webapp && validate succeeds in an empty folder', async () => {
    const folder = sandbox()
    const init = await devenv(['init', '--template', 'webapp'], { cwd: folder })
    expect(init.exitCode).toBe(0)
    expect(init.stdout).toMatch(/wrote devenv\.yaml from template webapp/)
    for (const file of ['devenv.yaml', '.env', 'app/server.cjs', 'db/schema.sql', 'db/data.sql'])
      expect(existsSync(path.join(folder, file))).toBe(true)
    const envfile = read(folder, 'devenv.yaml')
    expect(envfile).toMatch(/^# yaml-language-server: \$schema=\S+devenv\.schema\.json$/m)
    const schemaRef = /\$schema=(\S+)/.exec(envfile)![1]!
    expect(existsSync(path.resolve(folder, schemaRef))).toBe(true)
    expect(envfile).toContain(`name: ${path.basename(folder).toLowerCase()}`)

    const validate = await devenv(['validate', '--json'], { cwd: folder })
    expect(validate.exitCode).toBe(0)
    expect(JSON.parse(validate.stdout).result).toEqual({
      valid: true,
      file: path.join(folder, 'devenv.yaml'),
      project: path.basename(folder).toLowerCase(),
      services: ['lb', 'www1', 'www2', 'psql', 'mail', 'ftp'],
    })
  })

  it('the minimal template validates too', async () => {
    const folder = sandbox()
    expect((await devenv(['init'], { cwd: folder })).exitCode).toBe(0)
    const validate = await devenv(['validate', '--json'], { cwd: folder })
    expect(validate.exitCode).toBe(0)
    expect(JSON.parse(validate.stdout).result.services).toEqual(['db'])
  })

  it('refuses to overwrite without --force (exit 2, nothing changed), overwrites with it', async () => {
    const folder = sandbox()
    expect((await devenv(['init', '--template', 'webapp'], { cwd: folder })).exitCode).toBe(0)
    writeFileSync(path.join(folder, 'devenv.yaml'), '# mine\nservices: { a: { command: x } }\n')
    writeFileSync(path.join(folder, '.env'), 'FTP_PASSWORD=mine\n')
    const before = statSync(path.join(folder, 'devenv.yaml')).mtimeMs

    const refused = await devenv(['init', '--template', 'webapp'], { cwd: folder })
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/devenv\.yaml already exists/)
    expect(refused.stderr).toMatch(/--force/)
    expect(read(folder, 'devenv.yaml')).toBe('# mine\nservices: { a: { command: x } }\n')
    expect(read(folder, '.env')).toBe('FTP_PASSWORD=mine\n')
    expect(statSync(path.join(folder, 'devenv.yaml')).mtimeMs).toBe(before)

    const refusedJson = await devenv(['init', '--template', 'webapp', '--json'], { cwd: folder })
    expect(refusedJson.exitCode).toBe(2)
    expect(JSON.parse(refusedJson.stdout).error.code).toBe('EXISTS')

    const forced = await devenv(['init', '--template', 'webapp', '--force'], { cwd: folder })
    expect(forced.exitCode).toBe(0)
    expect(read(folder, 'devenv.yaml')).toMatch(/box: lb/)
    expect(read(folder, '.env')).toMatch(/FTP_PASSWORD=3pg-secret/)
  })

  it('an unknown template suggests the nearest', async () => {
    const folder = sandbox()
    const result = await devenv(['init', '--template', 'webap'], { cwd: folder })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/unknown template "webap" \(did you mean webapp\?\)/)
    expect(existsSync(path.join(folder, 'devenv.yaml'))).toBe(false)
  })

  it('adds .devenv/ to .gitignore once, keeping what was there', async () => {
    const folder = sandbox()
    writeFileSync(path.join(folder, '.gitignore'), 'node_modules') // no final newline
    expect((await devenv(['init'], { cwd: folder })).exitCode).toBe(0)
    expect(read(folder, '.gitignore')).toBe('node_modules\n.devenv/\n')
    expect((await devenv(['init', '--force'], { cwd: folder })).exitCode).toBe(0)
    expect(read(folder, '.gitignore')).toBe('node_modules\n.devenv/\n')
  })

  it('creates .gitignore when there is none', async () => {
    const folder = sandbox()
    expect((await devenv(['init'], { cwd: folder })).exitCode).toBe(0)
    expect(read(folder, '.gitignore')).toBe('.devenv/\n')
  })

  it('--name sets the project name, and refuses one that is not a DNS label', async () => {
    const folder = sandbox()
    const bad = await devenv(['init', '--name', 'My_Project'], { cwd: folder })
    expect(bad.exitCode).toBe(2)
    expect(bad.stderr).toMatch(/project name "My_Project" is not a DNS label/)
    expect(existsSync(path.join(folder, 'devenv.yaml'))).toBe(false)
    expect((await devenv(['init', '--name', 'shop'], { cwd: folder })).exitCode).toBe(0)
    expect(read(folder, 'devenv.yaml')).toMatch(/^name: shop$/m)
  })

  it('--list --json names the templates', async () => {
    const result = await devenv(['init', '--list', '--json'])
    expect(result.exitCode).toBe(0)
    const names = (JSON.parse(result.stdout).result.templates as Array<{ name: string }>).map(
      (template) => template.name,
    )
    expect(names).toEqual(expect.arrayContaining(['minimal', 'webapp']))
  })
})

/** A process standing in for the PostgreSQL that `devenv up -f templates/webapp` left running. */
function startStandIn(): { pid: number; pidStart: string; stop: () => void } {
  const child = spawn('sleep', ['120'], { detached: true, stdio: 'ignore' })
  child.unref()
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8')
  const pidStart = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!
  return { pid: child.pid!, pidStart, stop: () => child.kill('SIGKILL') }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return !/\) [ZX] /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

/** What `devenv up -f templates/webapp` (the README's second command) leaves in the template: a running project's state. */
function leaveRunState(template: string, standIn: { pid: number; pidStart: string }): string {
  const state = path.join(template, '.devenv')
  mkdirSync(path.join(state, 'services', 'psql', 'data'), { recursive: true })
  mkdirSync(path.join(state, 'logs'), { recursive: true })
  writeFileSync(
    path.join(state, 'services', 'psql', 'data', 'superuser.json'),
    '{"user":"postgres","password":"template-superuser-secret"}\n',
    { mode: 0o600 },
  )
  writeFileSync(path.join(state, 'logs', 'psql.log'), 'LOG: database system is ready\n')
  const service = {
    name: 'psql',
    box: 'postgres',
    kind: 'postgres',
    state: 'running',
    health: 'healthy',
    address: '127.64.9.9',
    hostnames: [],
    ports: [],
    pid: standIn.pid,
    pidStart: standIn.pidStart,
    restarts: 0,
  }
  writeFileSync(
    path.join(state, 'state.json'),
    `${JSON.stringify({ project: 'webapp', root: template, envfile: path.join(template, 'devenv.yaml'), services: { psql: service }, updatedAt: new Date().toISOString() }, null, 2)}\n`,
  )
  mkdirSync(path.join(template, 'app', 'node_modules', 'left-pad'), { recursive: true })
  writeFileSync(path.join(template, 'app', 'node_modules', 'left-pad', 'index.js'), 'module.exports = 1\n')
  return state
}

describe('init from a template that was run in place (README: up -f templates/webapp, then init elsewhere)', () => {
  const template = path.join(REPO, 'templates', 'webapp')
  const standIn = startStandIn()
  afterAll(() => {
    standIn.stop()
    rmSync(path.join(template, '.devenv'), { recursive: true, force: true })
    rmSync(path.join(template, 'app', 'node_modules'), { recursive: true, force: true })
  })

  it("copies only the template's own files: no .devenv (another project's cluster, superuser password, logs, state), no node_modules", async () => {
    leaveRunState(template, standIn)
    const folder = sandbox()
    const init = await devenv(['init', '--template', 'webapp', '--json'], { cwd: folder })
    expect(init.exitCode, init.stderr).toBe(0)
    expect(existsSync(path.join(folder, '.devenv'))).toBe(false)
    expect(existsSync(path.join(folder, 'app', 'node_modules'))).toBe(false)
    expect(JSON.parse(init.stdout).result.files).toEqual([
      '.env',
      'app/server.cjs',
      'db/data.sql',
      'db/schema.sql',
      'devenv.yaml',
      'ftp/3pg/README.txt',
    ])
  })

  it("a state file copied from another folder is never acted on: down leaves that project's service running and its state as it was", async () => {
    const folder = sandbox()
    expect((await devenv(['init', '--template', 'webapp'], { cwd: folder })).exitCode).toBe(0)
    // as `cp -r templates/webapp myapp` would have copied it
    cpSync(leaveRunState(template, standIn), path.join(folder, '.devenv'), { recursive: true })
    const foreign = readFileSync(path.join(folder, '.devenv', 'state.json'), 'utf8')
    const down = await devenv(['down', '--no-hosts'], {
      cwd: folder,
      env: { DEVENV_HOSTS_FILE: path.join(folder, 'hosts') },
    })
    expect(down.exitCode, down.stderr).toBe(0)
    expect(down.stderr).toMatch(
      /state\.json belongs to another project folder \(.*templates\/webapp\); it was copied here and is ignored/,
    )
    expect(alive(standIn.pid)).toBe(true)
    expect(readFileSync(path.join(folder, '.devenv', 'state.json'), 'utf8')).toBe(foreign)
    expect(readFileSync(path.join(template, '.devenv', 'state.json'), 'utf8')).toBe(foreign)
  })
})
