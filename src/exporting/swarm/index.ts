import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { Document } from 'yaml'
import type { EnvSpec } from '../../envfile/index.js'
import { machineHome } from '../../state/index.js'
import { DevenvError } from '../../errors.js'
import { composeSchemaErrors, escapeDollars } from '../compose/render.js'
import type { BoxContainerPlanner } from '../plan.js'
import { checkSwarmManager, docker, waitUntil, type DockerTarget } from './docker.js'
import { stackFile } from './stack.js'

export type { DockerTarget } from './docker.js'

export interface SwarmService {
  name: string
  running: number
  desired: number
  image: string
  ports: string
}

export interface DeployResult {
  stack: string
  endpointMode: 'dnsrr' | 'vip'
  built: string[]
  services: SwarmService[]
  notes: string[]
}

const CONVERGE_MS = 120_000
const IPVS = '/proc/net/ip_vs'

/**
 * `devenv deploy swarm`: builds the images that have a Dockerfile, checks every image is on the
 * engine (never pulled: --resolve-image never), deploys the stack named as the project and waits
 * until every service runs its replicas.
 */
export async function deploySwarm(
  spec: EnvSpec,
  planner: BoxContainerPlanner,
  target: DockerTarget,
  progress: (message: string) => void = () => undefined,
): Promise<DeployResult> {
  await checkSwarmManager(target)
  // Swarm's virtual IPs and routing mesh are IPVS: without it they take connections and answer none.
  const dnsrr = !existsSync(IPVS)
  const stack = stackFile(spec, planner, { dnsrr })
  const notes = [
    ...(dnsrr
      ? [
          `this kernel has no IPVS (${IPVS} is absent, as seen on this machine): services resolve by DNS round robin (endpoint_mode: dnsrr) and published ports are bound on the node (mode: host)`,
        ]
      : []),
    ...stack.notes,
  ]
  const file = escapeDollars(stack.file)
  const problems = composeSchemaErrors(file)
  if (problems.length > 0)
    throw new DevenvError('EXPORT', 'the stack file devenv made does not validate against the compose-spec schema', {
      details: problems,
      hint: 'This is a bug in devenv: please report it with the envfile.',
    })
  // Swarm, unlike Compose, refuses a bind mount whose source is missing: the project's and devenv's own folders are made here.
  const owned = [spec.root, machineHome()]
  for (const service of Object.values(stack.file.services)) {
    for (const volume of service.volumes ?? []) {
      const source = volume.split(':')[0]!
      if (owned.some((folder) => source === folder || source.startsWith(`${folder}${path.sep}`)))
        mkdirSync(source, { recursive: true })
    }
  }
  for (const build of stack.builds) {
    progress(`building ${build.image} from ${build.context}`)
    await docker(target, ['build', '-q', '-t', build.image, build.context])
  }
  const hints = new Map(stack.images.map((entry) => [entry.image, entry.buildHint]))
  for (const image of new Set(Object.values(stack.file.services).map((service) => service.image))) {
    const present = await docker(target, ['image', 'inspect', '--format', '{{.Id}}', image]).then(
      () => true,
      () => false,
    )
    if (!present)
      throw new DevenvError('RUNTIME', `image ${image} is not on the Docker engine, and Swarm is never let pull it`, {
        hint: hints.has(image)
          ? `Build it first: ${hints.get(image)}`
          : `Build it (or docker load it) on the engine first.`,
      })
  }
  progress(`deploying stack ${spec.name}`)
  const text = new Document(file, { version: '1.1' }).toString({ lineWidth: 0 }).replace(/^%YAML 1\.1\n---\n/, '')
  await docker(
    target,
    ['stack', 'deploy', '--resolve-image', 'never', '--prune', '--detach=true', '-c', '-', spec.name],
    text,
  )
  const services = await waitUntil(
    CONVERGE_MS,
    async () => {
      const current = await stackServices(spec, target)
      const expected = Object.keys(stack.file.services).length
      return current.length === expected && current.every((service) => service.running === service.desired)
        ? current
        : undefined
    },
    async () =>
      new DevenvError('RUNTIME', `stack ${spec.name} did not reach its replicas within ${CONVERGE_MS / 1000} s`, {
        details: await failedTasks(spec, target),
        hint: `See docker stack ps ${spec.name} --no-trunc.`,
      }),
  )
  return {
    stack: spec.name,
    endpointMode: dnsrr ? 'dnsrr' : 'vip',
    built: stack.builds.map((build) => build.image),
    services,
    notes,
  }
}

/** `devenv status --target swarm`: the stack's services as Swarm reports them; empty when not deployed. */
export async function stackServices(spec: EnvSpec, target: DockerTarget): Promise<SwarmService[]> {
  const output = await docker(target, [
    'service',
    'ls',
    '--filter',
    `label=com.docker.stack.namespace=${spec.name}`,
    '--format',
    '{{json .}}',
  ])
  return output
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const entry = JSON.parse(line) as { Name: string; Replicas: string; Image: string; Ports: string }
      const [running, desired] = entry.Replicas.split(/[/ ]/).map(Number)
      return {
        name: entry.Name.startsWith(`${spec.name}_`) ? entry.Name.slice(spec.name.length + 1) : entry.Name,
        running: running ?? 0,
        desired: desired ?? 0,
        image: entry.Image,
        ports: entry.Ports,
      }
    })
    .sort((a, b) => order(spec, a.name) - order(spec, b.name))
}

/**
 * `devenv undeploy swarm`: removes the stack and waits until none of its containers or networks is left.
 * `docker stack rm` removes the services, then the networks at once, and gives up on a network whose
 * tasks are still stopping ("in use by task"); such networks are removed here once their tasks are gone.
 */
export async function undeploySwarm(
  spec: EnvSpec,
  target: DockerTarget,
): Promise<{ stack: string; removed: string[] }> {
  await checkSwarmManager(target)
  const services = await stackServices(spec, target)
  if (services.length > 0)
    await docker(target, ['stack', 'rm', spec.name]).catch((error: Error) => {
      if (!NETWORK_STILL_IN_USE.test(error.message)) throw error
    })
  const label = `label=com.docker.stack.namespace=${spec.name}`
  await waitUntil(
    60_000,
    async () => {
      const containers = (await docker(target, ['ps', '-aq', '--filter', label])).trim()
      const networks = (await docker(target, ['network', 'ls', '-q', '--filter', label])).trim()
      if (containers === '' && networks !== '')
        await docker(target, ['network', 'rm', ...networks.split('\n')]).catch(() => undefined)
      return containers === '' && networks === '' ? true : undefined
    },
    async () => new DevenvError('RUNTIME', `stack ${spec.name}'s containers or networks were still there after 60 s`),
  )
  return { stack: spec.name, removed: services.map((service) => service.name) }
}

const NETWORK_STILL_IN_USE = /is in use by task|failed to remove some resources/

async function failedTasks(spec: EnvSpec, target: DockerTarget): Promise<string[]> {
  const output = await docker(target, [
    'stack',
    'ps',
    spec.name,
    '--no-trunc',
    '--format',
    '{{.Name}} {{.CurrentState}} {{.Error}}',
  ]).catch(() => '')
  return output.split('\n').filter((line) => line.trim())
}

function order(spec: EnvSpec, name: string): number {
  const names = Object.values(spec.services).map((service) => service.replica?.of ?? service.name)
  const index = names.indexOf(name)
  return index === -1 ? names.length : index
}
