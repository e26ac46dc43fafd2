import { mkdirSync } from 'node:fs'
import type Docker from 'dockerode'
import { driverFor, type ServiceContext } from '../../boxes/index.js'
import type { EnvSpec, ServiceSpec } from '../../envfile/index.js'
import { serviceEnvironment } from '../../spec/index.js'
import { DevenvError } from '../../errors.js'
import { machineHome, ProjectPaths } from '../../state/index.js'
import type { PreparationContext, ServiceEvent, ServicePreparation } from '../runtime.js'
import { boxRunFolder, planContainer, runsInBoxImage } from './container-plan.js'
import { withEnginePorts } from './image-ports.js'
import { LABELS } from './labels.js'
import { updateRecord } from './project-record.js'
import { containerProbe, waitReady, type Readiness } from './readiness.js'
import { buildServiceImage, resolveServiceImage } from './service-image.js'
import { seedFromImage } from './image-commit.js'

const READY_TIMEOUT_MS = 120_000

/** What starting one service needs from the runtime's `up`. */
export interface StartContext {
  docker: Docker
  project: EnvSpec
  addresses: Record<string, string>
  network: string
  boxImage: () => Promise<{ reference: string; id: string }>
  preparation: ServicePreparation
  onEvent: (event: ServiceEvent) => void
  recreate: boolean
  signal: AbortSignal
}

export interface StartOutcome {
  service: string
  readiness: Readiness
  lastLines: string[]
}

/** The service as the host sees it: its address, its data folder; box probes and first-boot checks run with it. */
export function hostContext(
  project: EnvSpec,
  service: ServiceSpec,
  addresses: Record<string, string>,
  signal: AbortSignal,
): ServiceContext {
  const paths = new ProjectPaths(project.root)
  const address = addresses[service.name] ?? '127.0.0.1'
  const dataDir = paths.serviceData(service.name)
  return {
    project: { name: project.name, root: project.root, ...(project.domain ? { domain: project.domain } : {}) },
    service,
    address,
    port: (declared) => declared,
    dataDir,
    runDir: boxRunFolder(paths, service.name),
    machineHome: machineHome(),
    env: serviceEnvironment(service, { project: project.name, address, port: (declared) => declared, dataDir }),
    log: () => {},
    endpoint: (peer) => ({ address: addresses[peer] ?? peer, port: (declared) => declared }),
    peer: (peer) => project.services[peer],
    signal,
  }
}

async function serviceImage(
  context: StartContext,
  service: ServiceSpec,
  note: (line: string) => void,
): Promise<{ reference: string; id: string }> {
  if (service.imageBuild) {
    context.onEvent({ service: service.name, phase: 'building', message: 'docker build' })
    return buildServiceImage(
      context.docker,
      context.project,
      { ...service, imageBuild: service.imageBuild },
      false,
      note,
    )
  }
  if (service.image) return resolveServiceImage(context.docker, { ...service, image: service.image }, note)
  return context.boxImage()
}

async function existingContainer(docker: Docker, name: string): Promise<Docker.ContainerInspectInfo | undefined> {
  try {
    return await docker.getContainer(name).inspect()
  } catch {
    return undefined
  }
}

/**
 * Brings one service's container up: builds what changed, prepares its data as on every runtime,
 * recreates the container only when its config hash changed, starts it, and waits for it to be ready.
 */
export async function startService(context: StartContext, name: string): Promise<StartOutcome> {
  const { docker, project } = context
  const written = project.services[name]!
  const lastLines: string[] = []
  const note = (line: string): void => {
    lastLines.push(line)
    if (lastLines.length > 15) lastLines.shift()
  }
  const address = context.addresses[name]!
  const paths = new ProjectPaths(project.root)
  const preparation: PreparationContext = {
    project,
    env: serviceEnvironment(written, {
      project: project.name,
      address,
      port: (declared) => declared,
      dataDir: paths.serviceData(name),
    }),
    dataDir: paths.serviceData(name),
    note,
    output: (_stream, data) => data.toString().split('\n').filter(Boolean).forEach(note),
    signal: context.signal,
  }
  if (written.build) {
    context.onEvent({ service: name, phase: 'building' })
    await context.preparation.build(written, preparation, false, (message) =>
      context.onEvent({ service: name, phase: 'building', message }),
    )
  }
  const boxed = runsInBoxImage(written)
  const image = await serviceImage(context, written, note)
  const ported = written.image
    ? withEnginePorts(written, (await docker.getImage(image.id).inspect()).Config)
    : { service: written, notes: [] }
  ported.notes.forEach(note)
  const service = ported.service
  context.onEvent({ service: name, phase: 'preparing' })
  await context.preparation.prepareData(service, preparation)
  if (!boxed && (await seedFromImage(docker, image.reference, paths.serviceData(name))))
    note(`first boot from image ${image.reference}: its committed data copied into the data folder`)
  mkdirSync(paths.serviceData(name), { recursive: true })
  if (boxed) mkdirSync(boxRunFolder(paths, name), { recursive: true })
  const plan = planContainer(project, service, { address, network: context.network, image, boxed })
  const existing = await existingContainer(docker, plan.name)
  const driver = boxed ? await driverFor(service.kind) : undefined
  const onHost = hostContext(project, service, context.addresses, context.signal)
  const probe = containerProbe(docker, plan.name, service, driver, {
    ...onHost,
    log: note,
  })
  const unchanged = existing?.Config.Labels?.[LABELS.configHash] === plan.hash && !context.recreate
  if (unchanged && existing?.State.Running) {
    context.onEvent({
      service: name,
      phase: 'unchanged',
      message: `${address}${service.ports[0] ? `:${service.ports[0]}` : ''}`,
    })
    if (driver?.settle) await driver.settle(onHost).catch(() => {})
  } else {
    if (existing && !unchanged) await docker.getContainer(plan.name).remove({ force: true })
    if (!unchanged) await docker.createContainer(plan.options)
    context.onEvent({ service: name, phase: 'starting' })
    await docker
      .getContainer(plan.name)
      .start()
      .catch((error: Error) => {
        throw engineStartError(name, error)
      })
  }
  updateRecord(project.root, context.network, (record) => {
    record.containers[name] = plan.name
    record.stopped = record.stopped.filter((stopped) => stopped !== name)
  })
  context.onEvent({ service: name, phase: 'health' })
  const readiness = await waitReady(docker, plan.name, probe, READY_TIMEOUT_MS, context.signal)
  context.onEvent(
    readiness.ok
      ? { service: name, phase: 'ready', message: `${address}${service.ports[0] ? `:${service.ports[0]}` : ''}` }
      : { service: name, phase: 'failed', message: readiness.reason },
  )
  return { service: name, readiness, lastLines }
}

/** The engine's refusal to start a container, said in devenv's words where it is a known cause. */
function engineStartError(service: string, error: Error): Error {
  const taken = /listen tcp[46]? ([\d.]+):(\d+): bind: address already in use/.exec(error.message)
  if (taken) {
    return new DevenvError('PORT_IN_USE', `service ${service}: port ${taken[2]} on ${taken[1]} is already in use`, {
      hint: `Stop whatever listens there (\`ss -ltnp 'sport = :${taken[2]}'\` names it), or change the port in devenv.yaml.`,
    })
  }
  return new DevenvError(
    'RUNTIME',
    `service ${service}: the engine could not start its container: ${error.message.replace(/^\(HTTP code \d+\)[^-]*- /, '')}`,
  )
}
