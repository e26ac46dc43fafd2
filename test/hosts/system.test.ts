import { spawn, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// These tests run the built package (dist/, bin/devenv) in real child processes: build first.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(repo, 'bin/devenv')
const child = path.join(repo, 'test/fixtures/hosts/apply-block.mjs')

let folder: string
let hosts: string
beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-hosts-sys-'))
  chmodSync(folder, 0o755)
  hosts = path.join(folder, 'hosts')
  writeFileSync(hosts, '127.0.0.1\tlocalhost\n::1\tlocalhost\n')
})
afterEach(() => rmSync(folder, { recursive: true, force: true }))

function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', ...env } })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

function runAsync(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const process_ = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    process_.stdout.on('data', (chunk: Buffer) => (stdout += chunk))
    process_.stderr.on('data', (chunk: Buffer) => (stderr += chunk))
    process_.on('error', reject)
    process_.on('close', (status) => resolve({ status, stdout, stderr }))
  })
}

const unshareWorks = spawnSync('unshare', ['-m', 'true']).status === 0

describe('hosts file, real processes', () => {
  it('keeps the blocks of projects applying at the same time', async () => {
    const projects = ['p1', 'p2', 'p3', 'p4', 'p5', 'p6']
    const results = await Promise.all(
      projects.map((project, index) => runAsync('node', [child, hosts, project, `127.64.${index + 1}.2`, '5'])),
    )
    for (const result of results) expect(result.status, result.stderr).toBe(0)
    const text = readFileSync(hosts, 'utf8')
    expect(text.startsWith('127.0.0.1\tlocalhost\n::1\tlocalhost\n')).toBe(true)
    projects.forEach((project, index) => {
      expect(text).toContain(`# >>> devenv ${project} (/projects/${project}) >>>`)
      expect(text).toContain(`127.64.${index + 1}.2\t${project}.test round4.${project}.test`)
      expect(text.split(`# <<< devenv ${project} <<<`).length).toBe(2)
    })
    // and removing them concurrently gives back the file
    const removals = await Promise.all(
      projects.map((project) => runAsync('node', [child, hosts, project, '127.0.0.1', '1', 'remove'])),
    )
    for (const result of removals) expect(result.status, result.stderr).toBe(0)
    expect(readFileSync(hosts, 'utf8')).toBe('127.0.0.1\tlocalhost\n::1\tlocalhost\n')
  })

  it.skipIf(!unshareWorks)(
    'is what the system resolver answers (getent through /etc/hosts bind-mounted in a mount namespace)',
    () => {
      const project = path.join(folder, 'project')
      cpSync(path.join(repo, 'test/fixtures/hosts-project'), project, { recursive: true })
      const env = { DEVENV_HOSTS_FILE: hosts, DEVENV_HOME: path.join(folder, 'home') }
      const original = readFileSync(hosts)
      const applied = run('node', [bin, 'hosts', 'apply', '--json', '-f', path.join(project, 'devenv.yaml')], env)
      expect(applied.status, applied.stderr).toBe(0)
      const shown = JSON.parse(
        run('node', [bin, 'hosts', 'show', '--json', '-f', path.join(project, 'devenv.yaml')], env).stdout,
      ).result
      const web = shown.entries.find((entry: { hostnames: string[] }) => entry.hostnames.includes('www.hostsdemo.test'))
      const lookup = run('unshare', [
        '-m',
        'sh',
        '-c',
        `mount --bind '${hosts}' /etc/hosts && getent hosts www.hostsdemo.test api.hostsdemo.test`,
      ])
      expect(lookup.status, lookup.stderr).toBe(0)
      expect(lookup.stdout).toMatch(new RegExp(`^${web.address.replace(/\./g, '\\.')}\\s+www\\.hostsdemo\\.test`, 'm'))
      const api = shown.entries.find((entry: { hostnames: string[] }) => entry.hostnames.includes('api.hostsdemo.test'))
      expect(lookup.stdout).toContain(api.address)

      expect(run('node', [bin, 'hosts', 'remove', '-f', path.join(project, 'devenv.yaml')], env).status).toBe(0)
      const gone = run('unshare', [
        '-m',
        'sh',
        '-c',
        `mount --bind '${hosts}' /etc/hosts && getent hosts www.hostsdemo.test`,
      ])
      expect(gone.status).toBe(2) // getent: key not found
      expect(readFileSync(hosts).equals(original)).toBe(true)
    },
  )

  it("destroy --no-hosts leaves the project's block alone; destroy takes it out", () => {
    const project = path.join(folder, 'project-destroyed')
    cpSync(path.join(repo, 'test/fixtures/hosts-project'), project, { recursive: true })
    const env = { DEVENV_HOSTS_FILE: hosts, DEVENV_HOME: path.join(folder, 'home') }
    const envfile = path.join(project, 'devenv.yaml')
    const original = readFileSync(hosts)
    expect(run('node', [bin, 'hosts', 'apply', '-f', envfile], env).status).toBe(0)
    const withBlock = readFileSync(hosts)
    expect(withBlock.toString()).toContain('www.hostsdemo.test')
    const kept = run('node', [bin, 'destroy', '--force', '--no-hosts', '-f', envfile], env)
    expect(kept.status, kept.stderr).toBe(0)
    expect(readFileSync(hosts).equals(withBlock)).toBe(true)
    expect(run('node', [bin, 'destroy', '--force', '--no-sudo', '-f', envfile], env).status).toBe(0)
    expect(readFileSync(hosts).equals(original)).toBe(true)
  })

  it.skipIf(!unshareWorks)('writes in place when the hosts file is a bind mount (rename gives EBUSY)', () => {
    const mounted = path.join(folder, 'mounted-hosts')
    writeFileSync(mounted, '')
    const original = readFileSync(hosts)
    const script = `mount --bind '${hosts}' '${mounted}' && node '${child}' '${mounted}' binder 127.64.9.2 1`
    const result = run('unshare', ['-m', 'sh', '-c', script])
    expect(result.status, result.stderr).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ applied: true, method: 'in-place' })
    // the bind mount's source is the file that changed
    const text = readFileSync(hosts)
    expect(text.subarray(0, original.length).equals(original)).toBe(true)
    expect(text.toString()).toContain('127.64.9.2\tbinder.test round0.binder.test')
    expect(readFileSync(mounted, 'utf8')).toBe('')
  })

  const setprivWorks = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status === 0
  it.skipIf(!setprivWorks || process.getuid?.() !== 0)(
    'prints the exact command when the user may not write the hosts file, and that command works',
    () => {
      const project = path.join(folder, 'project')
      cpSync(path.join(repo, 'test/fixtures/hosts-project'), project, { recursive: true })
      const home = path.join(folder, 'home')
      mkdirSync(home, { mode: 0o777 })
      chmodSync(home, 0o777)
      const original = readFileSync(hosts)
      const env = { DEVENV_HOSTS_FILE: hosts, DEVENV_HOME: home, HOME: home }
      const asNobody = [
        '--reuid=65534',
        '--regid=65534',
        '--clear-groups',
        'node',
        bin,
        'hosts',
        'apply',
        '--no-sudo',
        '-f',
        path.join(project, 'devenv.yaml'),
      ]
      const human = run('setpriv', asNobody, env)
      expect(human.status, human.stderr).toBe(0)
      expect(human.stderr).toContain(`${hosts} is not writable by you`)
      const command = /^ {2}(sudo .+)$/m.exec(human.stderr)?.[1]
      expect(command).toMatch(new RegExp(`^sudo ${process.execPath} \\S+/dist/hosts/elevated-write\\.js \\S+\\.json$`))
      expect(readFileSync(hosts).equals(original)).toBe(true)

      const json = JSON.parse(run('setpriv', [...asNobody, '--json'], env).stdout).result
      expect(json).toMatchObject({ applied: false, changed: false, command })

      // The printed command does the write (root here, so without sudo, which this machine may lack).
      const [, ...helper] = command!.split(' ')
      const elevated = run(helper[0]!, helper.slice(1))
      expect(elevated.status, elevated.stderr).toBe(0)
      const text = readFileSync(hosts)
      expect(text.subarray(0, original.length).equals(original)).toBe(true)
      expect(text.toString()).toContain('www.hostsdemo.test web.hostsdemo.test')
      const shown = JSON.parse(
        run('node', [bin, 'hosts', 'show', '--json', '-f', path.join(project, 'devenv.yaml')], env).stdout,
      ).result
      expect(shown.applied).toBe(true)
    },
  )
})
