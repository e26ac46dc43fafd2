import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from '../cli/run-cli.js'
import { RuntimeProject, service } from '../runtime/helpers.js'

afterAll(cleanSandboxes)

describe('replicas: 3 on the bundled runtime', () => {
  let project: RuntimeProject

  beforeAll(async () => {
    project = new RuntimeProject('replicas')
    const up = await project.run(['up'], { timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
  }, 90_000)

  afterAll(async () => {
    await project?.cleanup()
  })

  it('runs www-1, www-2 and www-3, each at its own address with its own hostname and the shared one', async () => {
    const status = await project.status()
    const instances = ['www-1', 'www-2', 'www-3'].map((name) => service(status, name))
    expect(status.services.map((entry) => entry.name)).toEqual(['lb', 'www-1', 'www-2', 'www-3', 'client'])
    expect(new Set(instances.map((instance) => instance.address)).size).toBe(3)
    for (const [index, instance] of instances.entries()) {
      expect(instance.state).toBe('running')
      expect(instance.hostnames).toEqual([`www-${index + 1}.replicas.test`, 'www.replicas.test'])
    }
    // The hosts file maps the plain name at every instance's address, its own name at its own only.
    const hosts = readFileSync(project.hostsFile, 'utf8')
    for (const [index, instance] of instances.entries()) {
      expect(hosts).toMatch(
        new RegExp(`^${instance.address.replaceAll('.', '\\.')}\\s.*\\bwww-${index + 1}\\.replicas\\.test\\b`, 'm'),
      )
      expect(hosts).toMatch(
        new RegExp(`^${instance.address.replaceAll('.', '\\.')}\\s.*\\swww\\.replicas\\.test\\b`, 'm'),
      )
    }
  })

  it('the lb balances over every replica, and each answers at its own address', async () => {
    const status = await project.status()
    const lb = service(status, 'lb')
    const answers = new Set<string>()
    for (let request = 0; request < 9; request++) {
      const response = await fetch(`http://${lb.address}:${lb.ports[0]!.bound ?? 8080}/`)
      answers.add(await response.text())
    }
    expect([...answers].sort()).toEqual(['www-1', 'www-2', 'www-3'])
    const second = service(status, 'www-2')
    expect(await (await fetch(`http://${second.address}:${second.ports[0]!.bound ?? 3000}/`)).text()).toBe('www-2')
  })

  it('the service name stands for all its replicas in logs, stop and status; a one-service command asks for one', async () => {
    const logs = JSON.parse((await project.run(['logs', 'www', '--json'])).stdout) as {
      result: { lines: Array<{ service: string }> }
    }
    expect(new Set(logs.result.lines.map((line) => line.service))).toEqual(new Set(['www-1', 'www-2', 'www-3']))

    const named = JSON.parse((await project.run(['status', 'www', '--json'])).stdout) as {
      result: { services: Array<{ name: string }> }
    }
    expect(named.result.services.map((entry) => entry.name)).toEqual(['www-1', 'www-2', 'www-3'])

    const shell = await project.run(['exec', 'www', '--', 'true'])
    expect(shell.exitCode).toBe(2)
    expect(shell.stderr).toContain('www runs as 3 replicas (www-1, www-2, www-3); this command takes one of them')

    const stop = await project.run(['stop', 'www'])
    expect(stop.exitCode, stop.stderr).toBe(0)
    const after = await project.status()
    // stop takes only what it names: the lb and the client that depends on www keep running.
    expect(after.services.filter((entry) => entry.state === 'running').map((entry) => entry.name)).toEqual([
      'lb',
      'client',
    ])

    const up = await project.run(['up', 'www'], { timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
    const again = await project.status()
    expect(again.services.filter((entry) => entry.state === 'running').map((entry) => entry.name)).toEqual([
      'lb',
      'www-1',
      'www-2',
      'www-3',
      'client',
    ])
  })
})

describe('devenv config of a replicated service', () => {
  it('shows it as written, with its replicas, and the output loads back as the same project', async () => {
    const folder = sandbox()
    writeFileSync(
      path.join(folder, 'devenv.yaml'),
      'domain: shop.test\nservices:\n  lb:\n    box: lb\n    backends: [www]\n  www:\n    command: node s.js\n    ports: [3000]\n    replicas: 2\n  client:\n    command: node c.js\n    depends_on: [www]\n',
    )
    const config = await devenv(['config', '--show-secrets'], { cwd: folder })
    expect(config.exitCode, config.stderr).toBe(0)
    const shown = parse(config.stdout) as {
      services: Record<string, { replicas?: number; hostnames: string[]; backends?: string[]; depends_on: object }>
    }
    expect(Object.keys(shown.services)).toEqual(['lb', 'www', 'client'])
    expect(shown.services.www).toMatchObject({ replicas: 2, hostnames: ['www.shop.test'] })
    expect(shown.services.lb!.backends).toEqual(['www'])
    expect(shown.services.client!.depends_on).toEqual({ www: { condition: 'healthy' } })
    const resolved = path.join(folder, 'resolved.yaml')
    writeFileSync(resolved, config.stdout)
    const again = await devenv(['config', '--show-secrets', '-f', resolved], { cwd: folder })
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toBe(config.stdout)
    const validate = await devenv(['validate', '-f', resolved, '--json'], { cwd: folder })
    expect(JSON.parse(validate.stdout).result.services).toEqual(['lb', 'www-1', 'www-2', 'client'])
  })
})

describe('replicas that cannot be', () => {
  const validate = async (yaml: string): Promise<{ exitCode: number; stderr: string }> => {
    const folder = sandbox()
    writeFileSync(path.join(folder, 'devenv.yaml'), yaml)
    return devenv(['validate'], { cwd: folder })
  }

  it('a stateful box is refused at its replicas line', async () => {
    const result = await validate('services:\n  db:\n    box: postgres\n    replicas: 2\n')
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain(
      'service db: box postgres keeps state, and replicas: 2 would make 2 separate copies',
    )
    expect(result.stderr).toMatch(/devenv\.yaml:4:\d+/)
  })

  it('published host ports are refused: replicas cannot share them', async () => {
    const result = await validate(
      'services:\n  www:\n    command: node s.js\n    ports: [3000]\n    publish: ["81:3000"]\n    replicas: 2\n',
    )
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('service www: replicas: 2 cannot share the host port it publishes (81)')
    expect(result.stderr).toContain('Publish the load balancer in front of www instead')
  })

  it('a service already named like a replica is refused, naming both', async () => {
    const result = await validate(
      'services:\n  www:\n    command: node s.js\n    replicas: 2\n  www-2:\n    command: node t.js\n',
    )
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toContain('service www-2 has the name replica 2 of www would take')
    expect(result.stderr).toMatch(/devenv\.yaml:5:3/)
  })

  it('replicas must be a whole number from 1 to 64', async () => {
    const result = await validate('services:\n  www:\n    command: node s.js\n    replicas: 0\n')
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/replicas/)
    expect(result.stderr).toMatch(/devenv\.yaml:4:\d+/)
  })
})
