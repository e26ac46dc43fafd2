import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox, STACK_LINE } from '../cli/run-cli.js'

afterAll(cleanSandboxes)

describe('image: in the envfile', () => {
  it('an image name that cannot be pulled is refused by validate at its line', async () => {
    const root = sandbox()
    writeFileSync(path.join(root, 'devenv.yaml'), 'name: p\nservices:\n  web:\n    image: "Not An Image!"\n')
    const validate = await devenv(['validate'], { cwd: root })
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toContain('invalid image reference "Not An Image!"')
    expect(validate.stderr).toMatch(/devenv\.yaml:4/)
    expect(validate.stderr).not.toMatch(STACK_LINE)
  })

  it('a good one, without a command, validates', async () => {
    const root = sandbox()
    writeFileSync(
      path.join(root, 'devenv.yaml'),
      'name: p\nservices:\n  web:\n    image: 127.0.0.1:5000/team/app@sha256:' + 'a'.repeat(64) + '\n',
    )
    const validate = await devenv(['validate'], { cwd: root })
    expect(validate.exitCode, validate.stderr).toBe(process.platform === 'linux' ? 0 : 2)
  })
})
