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

describe('what a runtime cannot run is refused by validate, where the envfile asks for it', () => {
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
    expect(validate.stderr).toMatch(/runtime: docker/)
  })

  it('a Dockerfile build on the bundled runtime: exit 2 at its line', async () => {
    const root = project('name: p\nservices:\n  web:\n    build: { context: ./web }\n')
    const validate = await devenv(['validate'], { cwd: root })
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toMatch(/service web: build.context \(a Dockerfile build\) needs the docker runtime/)
    expect(validate.stderr).toMatch(/devenv\.yaml:4/)
  })

  it('a Dockerfile outside its build context is refused at its line', async () => {
    const root = project(
      'name: p\nruntime: docker\nservices:\n  web:\n    build: { context: ., dockerfile: ../Dockerfile }\n',
    )
    const validate = await devenv(['validate'], { cwd: root })
    expect(validate.exitCode).toBe(2)
    expect(validate.stderr).toMatch(/outside the build context/)
    expect(validate.stderr).toMatch(/devenv\.yaml:5/)
  })

  it('runtime: docker with no engine answering: one line says so and how to start one; nothing is left behind', async () => {
    const root = project(
      'name: p\nruntime: docker\nservices:\n  web:\n    command: node -e "setInterval(()=>{},1000)"\n',
    )
    const env = { DOCKER_HOST: `unix://${path.join(root, 'no-engine.sock')}` }
    const up = await devenv(['up', '--no-hosts'], { cwd: root, env })
    expect(up.exitCode).toBe(1)
    expect(up.stderr).toMatch(/no Docker engine answers at unix:\/\/.*no-engine\.sock/)
    expect(up.stderr).toMatch(/dockerd|systemctl start docker/)
    expect(up.stderr).not.toMatch(/\n\s+at /)
    const status = await devenv(['status'], { cwd: root, env })
    expect(status.exitCode).toBe(1)
    expect(status.stderr).toMatch(/no Docker engine answers/)
  })

  it('up --runtime docker while the bundled runtime runs the project: refused, exit 2, the stack untouched', async () => {
    const root = project('name: p\nservices:\n  web:\n    command: node -e "setInterval(()=>{},1000)"\n')
    const up = await devenv(['up', '--no-hosts'], { cwd: root })
    expect(up.exitCode, up.stderr).toBe(0)
    try {
      const other = await devenv(['up', '--no-hosts', '--runtime', 'docker'], { cwd: root })
      expect(other.exitCode).toBe(2)
      expect(other.stderr).toMatch(/p runs on the bundled runtime now \(supervisor pid \d+\), not on docker/)
      const status = JSON.parse((await devenv(['status', '--json'], { cwd: root })).stdout).result as {
        services: Array<{ state: string }>
      }
      expect(status.services.map((service) => service.state)).toEqual(['running'])
    } finally {
      await devenv(['down', '--no-hosts'], { cwd: root })
    }
  })
})
