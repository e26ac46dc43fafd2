import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, FIXTURES, sandbox, STACK_LINE } from '../cli/run-cli.js'

afterAll(cleanSandboxes)

describe('an envfile nested 20,000 levels deep', () => {
  it('is refused as nested too deeply, with its line, exit 2, no stack trace, in well under the timeout', async () => {
    const folder = path.join(FIXTURES, 'envfile-nested-too-deep')
    const result = await devenv(['validate'], { cwd: folder, timeout: 10_000 })
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/nested too deeply: more than 64 levels/)
    expect(result.stderr).toContain(`${path.join(folder, 'devenv.yaml')}:6:`)
    expect(result.stderr).not.toMatch(/call stack/i)
    expect(result.stderr).not.toMatch(STACK_LINE)
  })

  it('an envfile nested forty levels (in an x- extension) still loads', async () => {
    const folder = sandbox()
    writeFileSync(
      path.join(folder, 'devenv.yaml'),
      `x-deep: ${'['.repeat(40)}1${']'.repeat(40)}\nservices:\n  web: { command: node server.js }\n`,
    )
    const result = await devenv(['validate'], { cwd: folder })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
  })
})
