import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { execa } from 'execa'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { devenv } from '../cli/run-cli.js'
import { copyOf, dockerUnavailable, importBusyboxBase, removeFolder } from './helpers.js'

const BASE_IMAGE = 'devenvtest-export-base:1'
const WEB_IMAGE = 'devenvtest-export-swarm-web:1'
const STACK = 'devenvtest-export-swarm'
const unavailable = await dockerUnavailable()
if (unavailable) console.warn(`deploy swarm: tests skipped: ${unavailable}`)

async function swarmState(): Promise<string> {
  return (await execa('docker', ['info', '--format', '{{.Swarm.LocalNodeState}}'])).stdout.trim()
}

async function stackLeftovers(): Promise<string> {
  const label = `label=com.docker.stack.namespace=${STACK}`
  const containers = await execa('docker', ['ps', '-aq', '--filter', label])
  const networks = await execa('docker', ['network', 'ls', '-q', '--filter', label])
  const services = await execa('docker', ['service', 'ls', '-q', '--filter', label], { reject: false })
  return [containers.stdout, networks.stdout, services.stdout].join('').trim()
}

describe.skipIf(unavailable)('deploy swarm on a single-node swarm, replicas: 2', () => {
  let folder: string
  let joined = false
  let bridgeBefore = true

  beforeAll(async () => {
    folder = copyOf('test/fixtures/export-swarm', 'swarm')
    await importBusyboxBase(BASE_IMAGE)
    if ((await swarmState()) === 'inactive') {
      bridgeBefore =
        (await execa('docker', ['network', 'inspect', 'docker_gwbridge'], { reject: false })).exitCode === 0
      await execa('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'])
      joined = true
    }
  }, 60_000)

  afterAll(async () => {
    if (folder) await devenv(['undeploy', 'swarm'], { cwd: folder, timeout: 90_000 })
    // Only a swarm this test made is left: another one on this engine is not ours to end.
    if (joined) {
      await execa('docker', ['swarm', 'leave', '--force'], { reject: false })
      // swarm init makes the bridge its tasks reach the host through; leaving keeps it.
      // Its ingress endpoint goes a moment after the node leaves: until then the bridge is in use.
      for (let attempt = 0; !bridgeBefore && attempt < 20; attempt++) {
        const removed = await execa('docker', ['network', 'rm', 'docker_gwbridge'], { reject: false })
        const gone = await execa('docker', ['network', 'inspect', 'docker_gwbridge'], { reject: false })
        if (removed.exitCode === 0 || gone.exitCode !== 0) break
        await new Promise((resolve) => setTimeout(resolve, 500))
      }
    }
    await execa('docker', ['rmi', '-f', WEB_IMAGE, BASE_IMAGE], { reject: false })
    removeFolder(folder)
  }, 120_000)

  it('before the swarm has the stack, status --target swarm says so', async () => {
    const status = await devenv(['status', '--target', 'swarm', '--json'], { cwd: folder })
    expect(status.exitCode, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout).result).toEqual({ project: STACK, target: 'swarm', services: [] })
  })

  it('deploys: builds the image, says it uses DNS round robin without IPVS, and waits for both replicas', async () => {
    const deploy = await devenv(['deploy', 'swarm', '--json'], { cwd: folder, timeout: 150_000 })
    expect(deploy.exitCode, deploy.stderr).toBe(0)
    const envelope = JSON.parse(deploy.stdout) as {
      result: { stack: string; endpointMode: string; built: string[]; services: unknown[] }
      warnings: string[]
    }
    expect(envelope.result.stack).toBe(STACK)
    expect(envelope.result.built).toEqual([WEB_IMAGE])
    expect(envelope.result.services).toEqual([
      expect.objectContaining({ name: 'web', running: 2, desired: 2, image: WEB_IMAGE }),
      expect.objectContaining({ name: 'front', running: 1, desired: 1 }),
    ])
    // This kernel has no IPVS; where it has, Swarm's own VIPs are used and the warning is absent.
    const ipvs = await execa('test', ['-e', '/proc/net/ip_vs'], { reject: false })
    if (ipvs.exitCode !== 0) {
      expect(envelope.result.endpointMode).toBe('dnsrr')
      expect(envelope.warnings[0]).toMatch(/^this kernel has no IPVS \(\/proc\/net\/ip_vs is absent/)
    }
  }, 180_000)

  it('the front answers from both replicas through the shared hostname', async () => {
    const front = (
      await execa('docker', ['ps', '-q', '--filter', `label=com.docker.swarm.service.name=${STACK}_front`])
    ).stdout
      .trim()
      .split('\n')[0]!
    expect(front).not.toBe('')
    const answers = new Set<string>()
    for (let attempt = 0; attempt < 80 && answers.size < 2; attempt++) {
      const result = await execa(
        'docker',
        ['exec', front, 'wget', '-q', '-O', '-', 'http://127.0.0.1:8080/cgi-bin/front'],
        {
          reject: false,
        },
      )
      if (result.exitCode === 0) answers.add(result.stdout.trim())
    }
    expect([...answers].sort()).toEqual(['web-1', 'web-2'])
  }, 120_000)

  it('status --target swarm reads the stack back', async () => {
    const status = await devenv(['status', '--target', 'swarm'], { cwd: folder })
    expect(status.exitCode, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/^web +2\/2 +devenvtest-export-swarm-web:1/m)
    expect(status.stdout).toMatch(/^front +1\/1 /m)
  })

  it('undeploy leaves nothing of the stack', async () => {
    const undeploy = await devenv(['undeploy', 'swarm', '--json'], { cwd: folder, timeout: 90_000 })
    expect(undeploy.exitCode, undeploy.stderr).toBe(0)
    expect(JSON.parse(undeploy.stdout).result).toEqual({ stack: STACK, removed: ['web', 'front'] })
    expect(await stackLeftovers()).toBe('')
    const again = await devenv(['undeploy', 'swarm'], { cwd: folder })
    expect(again.stderr).toContain(`stack ${STACK} was not deployed`)
  }, 120_000)

  // What `docker stack rm` leaves when a task is still stopping: the stack's network, "in use by task".
  it("after docker stack rm gave up on a network, waits for the stack's last task to go, then removes it", async () => {
    const label = `com.docker.stack.namespace=${STACK}`
    const network = `${STACK}_leftover`
    await execa('docker', ['network', 'create', '--label', label, network])
    const task = ['--name', `${STACK}_stopping`, '--label', label, '--network', network]
    await execa('docker', ['run', '-d', '--rm', ...task, BASE_IMAGE, 'sleep', '3'])
    try {
      const undeploy = await devenv(['undeploy', 'swarm'], { cwd: folder, timeout: 90_000 })
      expect(undeploy.exitCode, undeploy.stderr).toBe(0)
      expect(await stackLeftovers()).toBe('')
    } finally {
      await execa('docker', ['rm', '-f', `${STACK}_stopping`], { reject: false })
      await execa('docker', ['network', 'rm', network], { reject: false })
    }
  }, 120_000)
})

/** The webapp template with one app server at replicas: 2 in place of www1 and www2 (a replicated service publishes no host port). */
function webappWithReplicas(): string {
  const root = copyOf('templates/webapp', 'swarm-webapp')
  const envfile = path.join(root, 'devenv.yaml')
  const text = readFileSync(envfile, 'utf8')
    .replace('backends: [www1, www2]', 'backends: [app]')
    .replace('  www1: &www\n', '  app:\n    replicas: 2\n')
    .replace(/ {4}publish: \["81:8080"\].*\n/, '')
    .replace(/ {2}www2:\n {4}<<: \*www\n {4}publish: \["82:8080"\]\n/, '')
  writeFileSync(envfile, `name: ${WEBAPP_STACK}\n${text.replace(/^name: .*\n/m, '')}`)
  return root
}

const WEBAPP_STACK = `devenvtest-swarm-webapp`

describe.skipIf(unavailable)('deploy swarm of the webapp template, its app server at replicas: 2', () => {
  let root: string
  let joined = false

  beforeAll(async () => {
    root = webappWithReplicas()
    if ((await swarmState()) === 'inactive') {
      await execa('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'])
      joined = true
    }
  }, 60_000)

  afterAll(async () => {
    if (root) await devenv(['undeploy', 'swarm'], { cwd: root, timeout: 90_000 })
    if (joined) await execa('docker', ['swarm', 'leave', '--force'], { reject: false })
    removeFolder(root)
  }, 120_000)

  it("runs every built-in box in devenv's box image; the lb answers from both replicas; undeploy leaves nothing", async () => {
    const deploy = await devenv(['deploy', 'swarm'], { cwd: root, timeout: 240_000 })
    expect(deploy.exitCode, deploy.stderr).toBe(0)
    expect(deploy.stdout).toMatch(/app\s+2\/2/)
    const ask = [
      "const http=require('http');const seen=new Set();let left=12;",
      "const one=()=>http.get({host:'127.0.0.1',port:80,headers:{host:'www.example.test'},agent:false},(r)=>{r.resume();r.on('end',()=>{if(r.statusCode===200)seen.add(r.headers['x-devenv-backend']);if(--left)one();else console.log([...seen].sort().join(' '))})}).on('error',()=>{if(--left)one();else console.log([...seen].join(' '))});one()",
    ].join('')
    let backends: string[] = []
    let last = ''
    for (let waited = 0; backends.length < 2 && waited < 60_000; waited += 1000) {
      // The lb's task, asked from inside (its container may be replaced while the stack settles).
      const filter = `label=com.docker.swarm.service.name=${WEBAPP_STACK}_lb`
      const lb = (await execa('docker', ['ps', '-q', '--filter', filter])).stdout.split('\n')[0] ?? ''
      const answer = await execa('docker', ['exec', lb, '/usr/local/bin/node', '-e', ask], { reject: false })
      backends = answer.stdout.split(' ').filter((backend) => backend.startsWith('app@'))
      last = `${answer.stdout} ${answer.stderr}`
      if (backends.length < 2) await new Promise((resolve) => setTimeout(resolve, 1000))
    }
    // The balancer sees both replicas behind the one DNS name (dnsrr) and takes turns between them; until it
    // has resolved the name again (every 2 s) it answers as the name itself, which is not counted.
    expect(backends, last).toHaveLength(2)
    for (const backend of backends) expect(backend).toMatch(/^app@\d+\.\d+\.\d+\.\d+$/)
    const undeploy = await devenv(['undeploy', 'swarm'], { cwd: root, timeout: 90_000 })
    expect(undeploy.exitCode, undeploy.stderr).toBe(0)
    const services = await execa('docker', [
      'service',
      'ls',
      '-q',
      '--filter',
      `label=com.docker.stack.namespace=${WEBAPP_STACK}`,
    ])
    expect(services.stdout.trim()).toBe('')
  }, 360_000)
})

describe('deploy swarm, refused', () => {
  it.skipIf(unavailable)('on an engine that is not in a swarm, it says how to make one', async () => {
    if ((await swarmState()) !== 'inactive') return
    const folder = copyOf('test/fixtures/export-swarm', 'swarm-none')
    try {
      const deploy = await devenv(['deploy', 'swarm'], { cwd: folder })
      expect(deploy.exitCode).toBe(1)
      expect(deploy.stderr).toContain('is not part of a Swarm (state: inactive)')
      expect(deploy.stderr).toContain('docker swarm init --advertise-addr 127.0.0.1')
    } finally {
      removeFolder(folder)
    }
  })
})
