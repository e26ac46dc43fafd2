import { execFile, execFileSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../../bin/devenv', import.meta.url))
const run = promisify(execFile)

function devenv(args: string[], env: Record<string, string>): { status: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(CLI, args, {
      env: { ...process.env, NO_COLOR: '1', ...env },
      encoding: 'utf8',
      stdio: 'pipe',
    })
    return { status: 0, stdout, stderr: '' }
  } catch (error) {
    const failed = error as { status: number; stdout: string; stderr: string }
    return { status: failed.status, stdout: failed.stdout, stderr: failed.stderr }
  }
}

describe('devenv tls (the built CLI)', () => {
  let home: string
  beforeAll(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'devenv-tls-cli-'))
    chmodSync(home, 0o755)
  })
  afterAll(() => rmSync(home, { recursive: true, force: true }))

  it('tls ca makes the CA on first use (one, even when two run at once) and says how to trust it', async () => {
    const env = { ...process.env, DEVENV_HOME: home }
    // A failure shows what the command printed, not only that it failed.
    const tlsCa = () =>
      run(CLI, ['tls', 'ca', '--json'], { env }).catch((error: Error & { stdout?: string; stderr?: string }) => {
        throw new Error(`${error.message}\n${error.stdout ?? ''}\n${error.stderr ?? ''}`)
      })
    const [first, second] = await Promise.all([tlsCa(), tlsCa()])
    const reports = [JSON.parse(first.stdout).result, JSON.parse(second.stdout).result]
    expect(reports[0].fingerprint).toBe(reports[1].fingerprint)
    expect(reports.filter((report) => report.created)).toHaveLength(1)
    expect(reports[0]).toMatchObject({
      certificate: path.join(home, 'tls/ca.pem'),
      privateKey: path.join(home, 'tls/ca-key.pem'),
    })
    expect(reports[0].trust.curl).toContain(`--cacert ${path.join(home, 'tls/ca.pem')}`)

    const text = devenv(['tls', 'ca'], { DEVENV_HOME: home })
    expect(text.status).toBe(0)
    expect(text.stdout.split('\n')[0]).toBe(path.join(home, 'tls/ca.pem'))
    expect(text.stdout).toMatch(/firefox .*Authorities/)
    expect(text.stdout).toContain(reports[0].fingerprint)
  })

  it('tls trust adds the CA to a Debian store and rebuilds its bundle', () => {
    const store = path.join(home, 'store')
    const result = devenv(['tls', 'trust', '--json'], { DEVENV_HOME: home, DEVENV_TRUST_ROOT: store })
    expect(result.status).toBe(0)
    const report = JSON.parse(result.stdout).result
    expect(report).toMatchObject({ system: 'debian', dryRun: false })
    const ca = readFileSync(path.join(home, 'tls/ca.pem'), 'utf8').trim()
    expect(readFileSync(report.destination, 'utf8').trim()).toBe(ca)
    expect(readFileSync(path.join(store, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).toContain(ca)
  })

  it('tls trust --dry-run prints the commands without running them', () => {
    const result = devenv(['tls', 'trust', '--dry-run'], { DEVENV_HOME: home })
    expect(result.status).toBe(0)
    expect(result.stdout).toMatch(
      /^install -m 0644 .*ca\.pem \/usr\/local\/share\/ca-certificates\/devenv-.*\.crt\nupdate-ca-certificates\n$/,
    )
  })

  it('tls trust as a user without root or sudo fails with the commands to run as root', () => {
    if (process.getuid?.() !== 0) return // runuser needs root; the case is covered where tests run as root
    const nobodysHome = path.join(home, 'nobody')
    mkdirSync(nobodysHome)
    chownSync(nobodysHome, 65534, 65534)
    const asNobody = [
      'runuser',
      '-u',
      'nobody',
      '--',
      'env',
      `DEVENV_HOME=${nobodysHome}`,
      'NO_COLOR=1',
      `PATH=${process.env.PATH}`,
      CLI,
      'tls',
      'trust',
    ]
    let status = 0
    let stderr = ''
    try {
      execFileSync(asNobody[0]!, asNobody.slice(1), { encoding: 'utf8', stdio: 'pipe' })
    } catch (error) {
      ;({ status, stderr } = error as { status: number; stderr: string })
    }
    expect(status).toBe(1)
    expect(stderr).toMatch(/needs root, and sudo is not available/)
    expect(stderr).toMatch(/update-ca-certificates/)
    expect(stderr).not.toMatch(/at .*\.js:\d+/)
  })
})
