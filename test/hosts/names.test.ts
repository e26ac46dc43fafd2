import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'

afterAll(cleanSandboxes)

/** A project folder holding `envfile`, and a machine home of its own (consent is per machine). */
function project(envfile: string): { folder: string; env: Record<string, string> } {
  const folder = sandbox('devenv-names-')
  writeFileSync(path.join(folder, 'devenv.yaml'), envfile)
  mkdirSync(path.join(folder, 'home'))
  return { folder, env: { DEVENV_HOME: path.join(folder, 'home'), DEVENV_HOSTS_FILE: path.join(folder, 'hosts') } }
}

const cloned = [
  "# a cloned repository's envfile",
  'services:',
  '  web:',
  '    command: node server.js',
  '    hostnames: [github.com, www.google.com]',
  '',
].join('\n')

describe('hostnames a devenv.yaml may claim', () => {
  it('refuses public names (exit 2) naming the hostname, file:line, and how to allow it', async () => {
    const { folder, env } = project(cloned)
    for (const command of [['validate'], ['up', '--no-sudo'], ['hosts', 'apply', '--no-sudo']]) {
      const result = await devenv(command, { cwd: folder, env })
      expect(result.exitCode, command.join(' ')).toBe(2)
      expect(result.stderr).toMatch(/hostname github\.com is not a special-use name/)
      expect(result.stderr).toContain(`${path.join(folder, 'devenv.yaml')}:5:`)
      expect(result.stderr).toMatch(/devenv hosts allow github\.com/)
      expect(result.stderr).not.toMatch(STACK_LINE)
    }
    expect(() => readFileSync(path.join(folder, 'hosts'))).toThrow()
  })

  it('refuses localhost itself, even with consent', async () => {
    const { folder, env } = project('services:\n  web:\n    command: x\n    hostnames: [localhost]\n')
    const result = await devenv(['validate'], { cwd: folder, env })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/hostname localhost is refused: it names this machine itself/)
    const allow = await devenv(['hosts', 'allow', 'localhost'], { cwd: folder, env })
    expect(allow.exitCode).toBe(2)
    expect(allow.stderr).toMatch(/localhost cannot be allowed/)
  })

  it('refuses a public domain:, which would give every service a public name', async () => {
    const { folder, env } = project('domain: google.com\nservices:\n  web: { command: x }\n')
    const result = await devenv(['validate'], { cwd: folder, env })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/domain google\.com is not a special-use name/)
    expect(result.stderr).toContain(`${path.join(folder, 'devenv.yaml')}:1:`)
    expect(result.stderr).toMatch(/devenv hosts allow "\*\.google\.com"/)
  })

  it('accepts every special-use name (and domain) without asking', async () => {
    const names = ['www.shop.test', 'shop.example', 'a.invalid', 'app.localhost', 'db.corp.internal', 'nas.home.arpa']
    const { folder, env } = project(
      `domain: shop.test\nservices:\n  web:\n    command: x\n    hostnames: [${names.join(', ')}]\n`,
    )
    const result = await devenv(['validate'], { cwd: folder, env })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  })

  it("accepts a public name once this machine's user allows it (devenv hosts allow), and not after disallow", async () => {
    const { folder, env } = project(cloned)
    expect((await devenv(['hosts', 'allow', 'github.com'], { cwd: folder, env })).exitCode).toBe(0)
    expect((await devenv(['hosts', 'allow', '*.google.com'], { cwd: folder, env })).exitCode).toBe(0)
    const listed = JSON.parse((await devenv(['hosts', 'allowed', '--json'], { cwd: folder, env })).stdout).result
    expect(listed.allowed).toEqual(['*.google.com', 'github.com'])
    expect(listed.file).toBe(path.join(env.DEVENV_HOME!, 'allowed-hostnames.json'))
    expect((await devenv(['validate'], { cwd: folder, env })).exitCode).toBe(0)
    // another machine home (another user, another machine) has not consented
    const elsewhere = await devenv(['validate'], { cwd: folder, env: { ...env, DEVENV_HOME: sandbox() } })
    expect(elsewhere.exitCode).toBe(2)
    expect((await devenv(['hosts', 'disallow', 'github.com'], { cwd: folder, env })).exitCode).toBe(0)
    const again = await devenv(['validate'], { cwd: folder, env })
    expect(again.exitCode).toBe(2)
    expect(again.stderr).toMatch(/hostname github\.com/)
  })
})
