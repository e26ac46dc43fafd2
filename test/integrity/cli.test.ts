import { spawnSync } from 'node:child_process'
import {
  appendFileSync,
  cpSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { createHash } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

// Runs the built CLI (bin/devenv → dist/) on a copy of test/fixtures/integrity-project.
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const bin = path.join(repo, 'bin/devenv')

let folder: string
let project: string
beforeEach(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), 'devenv-integrity-'))
  project = path.join(folder, 'project')
  cpSync(path.join(repo, 'test/fixtures/integrity-project'), project, { recursive: true })
})
afterEach(() => rmSync(folder, { recursive: true, force: true }))

function devenv(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync('node', [bin, ...args], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', DEVENV_HOME: path.join(folder, 'home') },
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

const sha256 = (file: string): string =>
  createHash('sha256')
    .update(readFileSync(path.join(project, file)))
    .digest('hex')

describe('devenv lock / verify', () => {
  it('records sorted checksums, then names every changed, missing and unlocked file with expected and found', () => {
    const locked = devenv('lock')
    expect(locked.status, locked.stderr).toBe(0)
    const files = ['app/settings.json', 'config/nginx/site.conf', 'config/nginx/upstream.conf', 'config/shared.env']
    const lockText = readFileSync(path.join(project, 'devenv.lock'), 'utf8')
    const entries = lockText.split('\n').filter((line) => line && !line.startsWith('#'))
    expect(lockText.startsWith('# devenv.lock')).toBe(true)
    expect(entries).toEqual(files.map((file) => `${sha256(file)}  ${file}`))

    const clean = devenv('verify')
    expect(clean.status, clean.stderr).toBe(0)
    expect(clean.stdout).toContain('4 file(s) match')

    const before = sha256('config/nginx/site.conf')
    appendFileSync(path.join(project, 'config/nginx/site.conf'), '# tampered\n')
    const after = sha256('config/nginx/site.conf')
    const changed = devenv('verify')
    expect(changed.status).toBe(1)
    expect(changed.stderr).toContain(`config/nginx/site.conf: changed, expected sha256 ${before}, found ${after}`)

    const settings = sha256('app/settings.json')
    unlinkSync(path.join(project, 'app/settings.json'))
    writeFileSync(path.join(project, 'config/nginx/extra.conf'), 'server {}\n')
    const json = devenv('verify', '--json')
    expect(json.status).toBe(1)
    const envelope = JSON.parse(json.stdout)
    expect(envelope.ok).toBe(false)
    const report = envelope.result
    expect(report.ok).toBe(false)
    const byFile = Object.fromEntries(report.files.map((check: { file: string }) => [check.file, check]))
    expect(byFile['config/nginx/site.conf']).toEqual({
      file: 'config/nginx/site.conf',
      status: 'changed',
      expected: before,
      found: after,
    })
    expect(byFile['app/settings.json']).toEqual({
      file: 'app/settings.json',
      status: 'missing',
      expected: settings,
      found: null,
    })
    expect(byFile['config/nginx/extra.conf']).toMatchObject({
      status: 'unlocked',
      expected: null,
      found: sha256('config/nginx/extra.conf'),
    })
    expect(byFile['config/shared.env'].status).toBe('ok')
    const services = Object.fromEntries(
      report.services.map((service: { service: string }) => [service.service, service]),
    )
    // project-wide files belong to every service
    expect(services.web.files.map((check: { file: string }) => check.file)).toContain('config/shared.env')
    expect(services.app.files.map((check: { file: string }) => check.file)).toEqual([
      'app/settings.json',
      'config/shared.env',
    ])
    expect(services.web.ok).toBe(false)
    expect(services.app.ok).toBe(false)
  })

  it('fails every service when a project-wide file changes', () => {
    expect(devenv('lock').status).toBe(0)
    appendFileSync(path.join(project, 'config/shared.env'), 'DEBUG=1\n')
    const report = JSON.parse(devenv('verify', '--json').stdout).result
    expect(report.services.map((service: { ok: boolean }) => service.ok)).toEqual([false, false])
  })

  it('refuses a link leading outside the project', () => {
    writeFileSync(path.join(folder, 'outside.conf'), 'secret\n')
    symlinkSync(path.join(folder, 'outside.conf'), path.join(project, 'config/nginx/escape.conf'))
    const locked = devenv('lock')
    expect(locked.status).toBe(1)
    expect(locked.stderr).toContain('config/nginx/escape.conf leads outside the project folder')
    expect(() => readFileSync(path.join(project, 'devenv.lock'))).toThrow()
  })

  it('refuses to lock when a declared file does not exist, and reports a malformed lock with its line', () => {
    unlinkSync(path.join(project, 'app/settings.json'))
    const locked = devenv('lock')
    expect(locked.status).toBe(1)
    expect(locked.stderr).toContain('app/settings.json: no such file')
    writeFileSync(path.join(project, 'app/settings.json'), '{}\n')
    writeFileSync(path.join(project, 'devenv.lock'), '# header\nnot a checksum line\n')
    const verify = devenv('verify')
    expect(verify.status).toBe(1)
    expect(verify.stderr).toContain('devenv.lock:2: expected "<sha256>  <relative path>"')
  })

  it('has help with examples', () => {
    const help = devenv('verify', '--help')
    expect(help.status).toBe(0)
    expect(help.stdout).toContain('devenv verify --json')
  })
})
