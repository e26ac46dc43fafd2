import type { MountSpec, ServiceSpec } from '../../envfile/index.js'
import { watchMounts, type MountChange } from '../../watch/index.js'
import { DockerRuntime } from './docker-runtime.js'
import { connectEngine } from './engine.js'
import { containerName } from './labels.js'
import { readRecord } from './project-record.js'
import { watchedSpec } from './watcher.js'

/**
 * The docker provider's watcher: one process per project while its stack runs. A change in a mount
 * with `watch: restart` restarts the service's container (services sharing the folder in turn, each
 * ready before the next); a watch command runs inside the container; a change in a build context
 * rebuilds the image and recreates the container.
 */
const BUILD_CONTEXT = '(build context)'
const [root, preparationModule] = process.argv.slice(2) as [string, string]
const spec = watchedSpec(root)
const runtime = new DockerRuntime({ preparationModule, watch: false })
const log = (line: string): void => void process.stdout.write(`${new Date().toISOString()} ${line}\n`)

let queue = Promise.resolve()
/** One change at a time: two services behind one balancer never restart together. */
function inTurn(work: () => Promise<void>): Promise<void> {
  queue = queue.then(work, work)
  return queue
}

function stoppedOnPurpose(service: string): boolean {
  return readRecord(root)?.stopped.includes(service) ?? true
}

async function runCommandInside(service: ServiceSpec, command: string): Promise<void> {
  const docker = await connectEngine()
  const exec = await docker
    .getContainer(containerName(spec.name, spec.root, service.name))
    .exec({ Cmd: ['/bin/sh', '-c', command], AttachStdout: true, AttachStderr: true })
  const stream = await exec.start({})
  stream.pipe(process.stdout)
  await new Promise((resolve) => stream.once('end', resolve))
}

async function onChange(service: ServiceSpec, change: MountChange): Promise<void> {
  if (stoppedOnPurpose(service.name)) return
  log(`${service.name}: ${change.paths.slice(0, 3).join(', ')}${change.paths.length > 3 ? ', …' : ''} changed`)
  if (change.action.kind === 'command') return runCommandInside(service, change.action.command)
  if (change.mount.target === BUILD_CONTEXT) {
    const result = await runtime.up(spec, { services: [service.name] }, () => {})
    log(
      `${service.name}: ${result.ok ? 'rebuilt and restarted' : `failed to start again: ${result.failed?.message ?? ''}`}`,
    )
    return
  }
  const ready = await runtime.restartInPlace(spec, service.name)
  log(`${service.name}: ${ready.ok ? 'restarted' : `failed to restart: ${ready.reason}`}`)
}

for (const service of Object.values(spec.services)) {
  const mounts: MountSpec[] = service.mounts.filter(
    (mount) => mount.watch.kind === 'restart' || mount.watch.kind === 'command',
  )
  if (service.imageBuild)
    mounts.push({
      source: service.imageBuild.context,
      target: BUILD_CONTEXT,
      readonly: true,
      watch: { kind: 'restart' },
      ignore: [],
    })
  if (!mounts.length) continue
  const watcher = watchMounts(
    { ...service, mounts },
    {
      onChange: (change) => inTurn(() => onChange(service, change)),
      onError: (error) => log(`${service.name}: watch: ${error.message}`),
    },
  )
  void watcher.ready.then(() => log(`${service.name}: watching ${mounts.map((mount) => mount.source).join(', ')}`))
}

process.on('SIGTERM', () => process.exit(0))
