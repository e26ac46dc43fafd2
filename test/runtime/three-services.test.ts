// The bundled runtime's promises, proved on real processes and sockets: three process
// services (db ← api ← web, http and tcp health checks, one published port). The stack is
// brought up once; every test starts from it running (an `up` of a running stack changes
// nothing), so each stands alone and in any order.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  alive,
  canBind,
  freePort,
  httpGet,
  listeningSockets,
  RuntimeProject,
  service,
  waitFor,
  type StatusJson,
} from './helpers.js'

const SERVICES = ['api', 'db', 'web']

describe('three process services on the bundled runtime', () => {
  let project: RuntimeProject
  let first: StatusJson
  let firstUp: { exitCode: number; stderr: string }
  let published: number

  beforeAll(async () => {
    project = new RuntimeProject('runtime-three')
    published = await freePort()
    project.usePort(18000, published)
    firstUp = await project.run(['up', '--no-hosts'])
    first = await project.status()
  })
  beforeEach(async () => {
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
  })
  afterAll(async () => {
    await project.cleanup()
  })

  it('comes up with one `devenv up`, in dependency order, each service on its own address', async () => {
    expect(firstUp.exitCode, firstUp.stderr).toBe(0)
    for (const name of SERVICES) {
      expect(service(first, name)).toMatchObject({ state: 'running', health: 'healthy', restarts: 0 })
    }
    const started = (name: string): number => Date.parse(service(first, name).startedAt!)
    expect(started('db')).toBeLessThan(started('api'))
    expect(started('api')).toBeLessThan(started('web'))

    const addresses = SERVICES.map((name) => service(first, name).address)
    expect(new Set(addresses).size).toBe(3)
    for (const name of SERVICES) {
      const entry = service(first, name)
      expect(entry.address).toMatch(/^127\.\d+\.\d+\.\d+$/)
      expect(entry.address).not.toBe('127.0.0.1')
      const answer = JSON.parse((await httpGet(entry.address, entry.ports[0]!.port)).body) as {
        name: string
        pid: number
        greeting: string | null
      }
      expect(answer.name).toBe(name)
      // The process answering is the one status names now (another test may have restarted it since).
      expect(answer.pid).toBe(service(await project.status(), name).pid)
    }
    // ${HOST} in the declared env is filled with the service's own address.
    const api = service(first, 'api')
    expect(JSON.parse((await httpGet(api.address, 8080)).body).greeting).toBe(`hello from ${api.address}`)
  })

  it('`status --json` follows the contract QA scripts rely on', async () => {
    const first = await project.status()
    expect(first.project).toBe('runtime-three')
    expect(first.supervisor.running).toBe(true)
    expect(first.supervisor.pid).toBe(project.supervisorPid())
    expect(alive(first.supervisor.pid!)).toBe(true)
    expect(first.services.map((entry) => entry.name).sort()).toEqual(SERVICES)
    for (const entry of first.services) {
      expect(Object.keys(entry)).toEqual(
        expect.arrayContaining([
          'name',
          'box',
          'state',
          'health',
          'address',
          'hostnames',
          'ports',
          'pid',
          'restarts',
          'startedAt',
        ]),
      )
      expect(entry.box).toBe('process')
      expect(['running', 'starting', 'stopped', 'exited', 'failed']).toContain(entry.state)
      expect(['healthy', 'unhealthy', 'starting', 'none']).toContain(entry.health)
      expect(Array.isArray(entry.hostnames)).toBe(true)
      expect(Number.isInteger(entry.pid)).toBe(true)
      expect(Number.isNaN(Date.parse(entry.startedAt!))).toBe(false)
      for (const port of entry.ports) {
        expect(Object.keys(port)).toEqual(expect.arrayContaining(['port', 'address', 'published']))
        expect(port.address).toBe(entry.address)
      }
    }
    expect(service(first, 'web').ports).toEqual([
      expect.objectContaining({ port: 8000, published: { address: '127.0.0.1', port: published } }),
    ])
    expect(service(first, 'api').ports[0]!.published).toBeNull()
  })

  it('publishes 127.0.0.1:<port> to web:8000', async () => {
    const answer = JSON.parse((await httpGet('127.0.0.1', published, '/through-publish')).body) as {
      name: string
      path: string
    }
    expect(answer).toMatchObject({ name: 'web', path: '/through-publish' })
  })

  it('`exec` runs in the service environment and passes its exit code through', async () => {
    const api = service(first, 'api')
    const result = await project.run([
      'exec',
      'api',
      '--',
      'sh',
      '-c',
      'echo "$HOST $PORT $DEVENV_SERVICE $(pwd)"; exit 7',
    ])
    expect(result.exitCode).toBe(7)
    expect(result.stdout.trim()).toBe(`${api.address} 8080 api ${project.root}`)
    expect((await project.run(['exec', 'api', '--', 'true'])).exitCode).toBe(0)
  })

  it('brings a service killed with SIGKILL back within a few seconds, counting the restart', async () => {
    const before = service(await project.status(), 'api')
    process.kill(before.pid!, 'SIGKILL')
    const after = await waitFor(
      'api to run again',
      async () => {
        const entry = service(await project.status(), 'api')
        return entry.pid !== before.pid && entry.state === 'running' && entry.health === 'healthy' ? entry : undefined
      },
      5_000,
    )
    expect(after.restarts).toBe(before.restarts + 1)
    expect(alive(before.pid!)).toBe(false)
    expect(JSON.parse((await httpGet(after.address, 8080)).body).pid).toBe(after.pid)
    const logs = await project.run(['logs', 'api', '--json'])
    const texts = (JSON.parse(logs.stdout).result as { lines: Array<{ text: string }> }).lines.map((line) => line.text)
    expect(texts.some((text) => /exited \(signal SIGKILL\)/.test(text))).toBe(true)
  })

  it('`logs` honours -n, --since and --json', async () => {
    const all = JSON.parse((await project.run(['logs', '--json'])).stdout).result as {
      lines: Array<{ service: string; time: string; stream: string; text: string }>
    }
    expect(new Set(all.lines.map((line) => line.service))).toEqual(new Set(SERVICES))
    expect(
      all.lines.some(
        (line) => line.stream === 'out' && line.text === `db listening on ${service(first, 'db').address}:5432`,
      ),
    ).toBe(true)
    const times = all.lines.map((line) => line.time)
    expect([...times].sort()).toEqual(times)

    const two = JSON.parse((await project.run(['logs', 'db', '-n', '2', '--json'])).stdout).result as {
      lines: Array<{ service: string }>
    }
    expect(two.lines).toHaveLength(2)
    expect(two.lines.every((line) => line.service === 'db')).toBe(true)

    const text = await project.run(['logs', '-n', '1'])
    expect(text.exitCode).toBe(0)
    expect(
      text.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('|')[0]!.trim())
        .sort(),
    ).toEqual(SERVICES)

    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect(JSON.parse((await project.run(['logs', '--since', future, '--json'])).stdout).result.lines).toEqual([])
    expect(JSON.parse((await project.run(['logs', '--since', '1h', '--json'])).stdout).result.lines.length).toBe(
      all.lines.length,
    )
    expect((await project.run(['logs', '--since', 'yesterday-ish'])).exitCode).toBe(2)
  })

  it('stops and restarts one service, leaving the others running', async () => {
    const stop = await project.run(['stop', 'web'])
    expect(stop.exitCode, stop.stderr).toBe(0)
    let status = await project.status()
    expect(service(status, 'web')).toMatchObject({ state: 'stopped' })
    expect(service(status, 'web').pid).toBeNull()
    expect(service(status, 'api').state).toBe('running')
    expect(await canBind(service(first, 'web').address, 8000)).toBe(true)
    expect(await canBind('127.0.0.1', published)).toBe(true)

    const since = new Date().toISOString()
    const apiBefore = service(status, 'api')
    const restart = await project.run(['restart', 'api', 'web'])
    expect(restart.exitCode, restart.stderr).toBe(0)
    status = await project.status()
    expect(service(status, 'web')).toMatchObject({ state: 'running', health: 'healthy' })
    expect(service(status, 'api')).toMatchObject({ state: 'running', health: 'healthy' })
    expect(service(status, 'api').pid).not.toBe(apiBefore.pid)
    expect(alive(apiBefore.pid!)).toBe(false)
    const recent = JSON.parse((await project.run(['logs', 'api', '--since', since, '--json'])).stdout).result as {
      lines: Array<{ time: string; text: string }>
    }
    expect(recent.lines.every((line) => line.time >= since)).toBe(true)
    expect(recent.lines.some((line) => line.text.startsWith(`started pid ${service(status, 'api').pid}`))).toBe(true)
  })

  it('after the supervisor is killed, `up` leaves exactly one copy of each service and a new supervisor', async () => {
    const old = project.supervisorPid()!
    process.kill(old, 'SIGKILL')
    await waitFor('the supervisor to die', () => !alive(old))
    const orphaned = await project.status()
    expect(orphaned.supervisor.running).toBe(false)

    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const status = await project.status()
    expect(status.supervisor.running).toBe(true)
    expect(status.supervisor.pid).not.toBe(old)
    const servers = project.processes().filter((info) => info.command === 'node server.mjs')
    expect(servers).toHaveLength(3)
    expect(servers.map((info) => info.pid).sort()).toEqual(status.services.map((entry) => entry.pid).sort())
    expect(project.processes().filter((info) => info.command.includes('supervisor-main.js'))).toHaveLength(1)
    for (const entry of status.services) expect(entry).toMatchObject({ state: 'running', health: 'healthy' })
  })

  it('`up` when already up changes nothing', async () => {
    const before = await project.status()
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const after = await project.status()
    expect(after.supervisor.pid).toBe(before.supervisor.pid)
    expect(after.services.map((entry) => entry.pid)).toEqual(before.services.map((entry) => entry.pid))
  })

  it('`down` leaves no process and no bound port behind', async () => {
    const status = await project.status()
    const supervisor = status.supervisor.pid!
    const down = await project.run(['down', '--no-hosts'])
    expect(down.exitCode, down.stderr).toBe(0)
    expect(project.processes()).toEqual([])
    expect(alive(supervisor)).toBe(false)
    for (const entry of status.services) expect(alive(entry.pid!)).toBe(false)
    const listening = listeningSockets()
    const ours = [
      ...status.services.map((entry) => `${entry.address}:${entry.ports[0]!.port}`),
      `127.0.0.1:${published}`,
    ]
    for (const socket of ours) expect(listening.has(socket), socket).toBe(false)
    for (const entry of status.services) expect(await canBind(entry.address, entry.ports[0]!.port)).toBe(true)
    const after = await project.status()
    expect(after.supervisor).toEqual({ pid: null, running: false })
    for (const entry of after.services) expect(entry.state).toBe('stopped')
  })

  it('`up SERVICE` starts it and its dependencies only', async () => {
    expect((await project.run(['down', '--no-hosts'])).exitCode).toBe(0)
    const up = await project.run(['up', 'api', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const status = await project.status()
    expect(service(status, 'db').state).toBe('running')
    expect(service(status, 'api').state).toBe('running')
    expect(service(status, 'web').state).toBe('stopped')
    expect(project.processes().filter((info) => info.command === 'node server.mjs')).toHaveLength(2)
  })

  it('refuses an unknown service name with exit 2 and a suggestion, and changes nothing', async () => {
    const before = await project.status()
    for (const args of [
      ['up', 'apii'],
      ['stop', 'apii'],
      ['restart', 'apii'],
      ['logs', 'apii'],
      ['exec', 'apii', '--', 'true'],
    ]) {
      const result = await project.run(args)
      expect(result.exitCode, args.join(' ')).toBe(2)
      expect(result.stderr, args.join(' ')).toMatch(/apii/)
      expect(result.stderr, args.join(' ')).toMatch(/did you mean "?api"?/i)
      expect(result.stderr).not.toMatch(/^ {4}at /m)
    }
    const after = await project.status()
    expect(after.services.map((entry) => [entry.name, entry.state, entry.pid])).toEqual(
      before.services.map((entry) => [entry.name, entry.state, entry.pid]),
    )
  })
})
