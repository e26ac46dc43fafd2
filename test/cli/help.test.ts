import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, STACK_LINE } from './run-cli.js'

afterAll(cleanSandboxes)

const COMMANDS = ['init', 'validate', 'config']

describe('--help', () => {
  it('devenv --help lists the commands', async () => {
    const result = await devenv(['--help'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toMatch(/USAGE\s+\$ devenv \[COMMAND\]/)
    for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'))
  })

  for (const command of COMMANDS) {
    it(`devenv ${command} --help shows usage, flags and examples`, async () => {
      const result = await devenv([command, '--help'])
      expect(result.exitCode).toBe(0)
      expect(result.stdout).toContain(`$ devenv ${command}`)
      expect(result.stdout).toMatch(/--json/)
      expect(result.stdout).toMatch(/EXAMPLES\n\s+\$ devenv /)
      expect(result.stderr).not.toMatch(STACK_LINE)
    })
  }

  it('an unknown command exits 127, as a shell does for a command not found', async () => {
    const result = await devenv(['valdate'])
    expect(result.exitCode).toBe(127)
    expect(result.stderr).toMatch(/valdate is not a devenv command/)
  })
})
