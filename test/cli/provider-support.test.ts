import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from './run-cli.js'

afterAll(cleanSandboxes)

function project(yaml: string): string {
  const root = sandbox()
  writeFileSync(path.join(root, 'devenv.yaml'), yaml)
  return root
}

describe('what this version cannot run is refused by validate, where the envfile asks for it', () => {
  it('runtime: docker: exit 2 at its line, and up starts nothing', async () => {
    const root = project(
      'name: p\nruntime: docker\nservices:\n  web:\n    command: node -e "setInterval(()=>{},1000)"\n',
    )
    const validate = await devenv(['validate'], { cwd: root })
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toMatch(/runtime: docker is not available/)
    expect(validate.stderr).toMatch(/devenv\.yaml:2/)
    const up = await devenv(['up', '--no-hosts'], { cwd: root })
    expect(up.exitCode).toBe(2)
  })

  it('image: on a service runs on the bundled runtime on Linux; elsewhere exit 2 naming the service and its line', async () => {
    const root = project('name: p\nservices:\n  cache:\n    image: redis:7\n')
    const validate = await devenv(['validate'], { cwd: root })
    if (process.platform === 'linux') {
      expect(validate.exitCode, validate.stderr).toBe(0)
      return
    }
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toMatch(/service cache: image: redis:7 needs Linux on the bundled runtime/)
    expect(validate.stderr).toMatch(/devenv\.yaml:4/)
  })
})
