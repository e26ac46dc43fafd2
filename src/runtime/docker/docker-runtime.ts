import path from 'node:path'
import type Docker from 'dockerode'
import { driverFor } from '../../boxes/index.js'
import type { EnvSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { checkNames, serviceEnvironment, startLayers, stopDependentsFirst, withDependencies } from '../../spec/index.js'
import {
  allocateAddresses,
  ProjectPaths,
  readAddresses,
  withFileLock,
  type ProjectState,
  type ServiceState,
} from '../../state/index.js'
import type {
  DownResult,
  LogQuery,
  Runtime,
  RuntimeActivity,
  RuntimeOptions,
  ServiceEvent,
  ServiceHandle,
  ServiceLogLine,
  ServicePreparation,
  UpOptions,
  UpResult,
} from '../runtime.js'
import { ensureBoxImage } from './box-image.js'
import { runsInBoxImage } from './container-plan.js'
import { containerLogs, followContainer } from './container-logs.js'
import { connectEngine, engineAddress } from './engine.js'
import { containerName, LABELS, networkName, projectFilter } from './labels.js'
import { forgetRecord, readRecord, updateRecord } from './project-record.js'
import { withEnginePorts } from './image-ports.js'
import { containerProbe, waitReady, type Readiness } from './readiness.js'
import { DockerServiceHandle } from './service-handle.js'
import { startWatcher, stopWatcher } from './watcher.js'
import { buildServiceImage } from './service-image.js'
import { hostContext, startService, type StartOutcome } from './service-start.js'
import { serviceState } from './service-state.js'

/**
 * The docker provider: each service a container on a Docker or Podman engine, spoken to through
 * its API. What it made carries devenv's labels, and only that is ever touched; a container is
 * recreated when its config hash changes; ports are published on each service's own loopback
 * address, so hostnames and URLs are the same as on the bundled runtime.
 */
export class DockerRuntime implements Runtime {
  readonly name = 'docker'
  private preparation?: Promise<ServicePreparation>

  constructor(private readonly options: RuntimeOptions & { watch?: boolean }) {}

  private loadPreparation(): Promise<ServicePreparation> {
    this.preparation ??=
      this.options.loadPreparation?.() ??
      import(this.options.preparationModule).then((module: { preparation: ServicePreparation }) => module.preparation)
    return this.preparation
  }

  /**
   * What changes containers runs one at a time per project, across processes (two `up`s at once,
   * the watcher's restarts): the engine refuses a second container of one name.
   */
  private exclusive<T>(spec: EnvSpec, work: () => Promise<T>): Promise<T> {
    return withFileLock(path.join(new ProjectPaths(spec.root).dir, 'docker.lock'), work, { patient: true })
  }

  up(spec: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    return this.exclusive(spec, () => this.upNow(spec, options, onEvent))
  }

  stop(spec: EnvSpec, services: string[]): Promise<ServiceState[]> {
    return this.exclusive(spec, () => this.stopNow(spec, services))
  }

  restart(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    checkNames(spec, services)
    const names = services.length ? services : Object.keys(spec.services)
    return this.exclusive(spec, async () => {
      await this.stopNow(spec, names)
      return this.upNow(spec, { services: names }, onEvent)
    })
  }

  /** A watched change: the container restarted where it is (nothing planned or built again), ready before this returns. */
  restartInPlace(spec: EnvSpec, name: string): Promise<Readiness> {
    return this.exclusive(spec, () => this.restartInPlaceNow(spec, name))
  }

  down(spec: EnvSpec): Promise<DownResult> {
    return this.exclusive(spec, () => this.downNow(spec))
  }

  build(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    return this.exclusive(spec, () => this.buildNow(spec, services, onEvent))
  }

  private async upNow(spec: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    const docker = await connectEngine()
    const targets = withDependencies(spec, options.services)
    const addresses = await allocateAddresses(spec.root, Object.keys(spec.services))
    const network = await this.ensureNetwork(docker, spec)
    let boxImage: Promise<{ reference: string; id: string }> | undefined
    const context = {
      docker,
      project: spec,
      addresses,
      network,
      boxImage: () =>
        (boxImage ??= ensureBoxImage(docker, (message) =>
          onEvent({ service: targets[0]!, phase: 'building', message }),
        ).then(async (reference) => ({
          reference,
          id: (await docker.getImage(reference).inspect()).Id,
        }))),
      preparation: await this.loadPreparation(),
      onEvent,
      recreate: Boolean(options.recreate),
      signal: new AbortController().signal,
    }
    for (const name of targets) onEvent({ service: name, phase: 'waiting' })
    let failed: UpResult['failed']
    for (const layer of startLayers(spec, targets)) {
      const outcomes = await Promise.all(
        layer.map((name) =>
          startService(context, name).catch((error: unknown): StartOutcome => ({
            service: name,
            readiness: { ok: false, reason: error instanceof Error ? error.message : String(error) },
            lastLines: error instanceof DevenvError ? error.details : [],
          })),
        ),
      )
      const first = outcomes.find((outcome) => !outcome.readiness.ok)
      if (first && !first.readiness.ok) {
        onEvent({ service: first.service, phase: 'failed', message: first.readiness.reason })
        const logs = await this.logs(spec, [first.service], { tail: 15 }).catch(() => [])
        failed = {
          service: first.service,
          message: first.readiness.reason.startsWith(`service ${first.service}`)
            ? first.readiness.reason
            : `service ${first.service} ${first.readiness.reason}`,
          lastLines: [...first.lastLines, ...logs.map((line) => line.text)].slice(-15),
        }
        break
      }
    }
    if (!failed && this.options.watch !== false) startWatcher(spec, this.options.preparationModule)
    const state = await this.inspect(spec)
    return { ok: !failed, services: targets.map((name) => state.services[name]!), ...(failed ? { failed } : {}) }
  }

  private async stopNow(spec: EnvSpec, services: string[]): Promise<ServiceState[]> {
    checkNames(spec, services)
    const names = services.length ? services : Object.keys(spec.services)
    if (!readRecord(spec.root)) return Object.values((await this.inspect(spec)).services)
    const docker = await connectEngine()
    const failures = await stopDependentsFirst(spec, names, async (name) => {
      updateRecord(spec.root, networkName(spec.name, spec.root), (record) => {
        if (!record.stopped.includes(name)) record.stopped.push(name)
      })
      const seconds = Math.ceil(spec.services[name]!.stopTimeoutMs / 1000)
      await docker
        .getContainer(containerName(spec.name, spec.root, name))
        .stop({ t: seconds })
        .catch(() => undefined)
    })
    // As before: a stop that could not be recorded is an error (the engine's own refusals are not).
    if (failures.length > 0) throw failures[0]
    const state = await this.inspect(spec)
    return names.map((name) => state.services[name]!)
  }

  private async restartInPlaceNow(spec: EnvSpec, name: string): Promise<Readiness> {
    const docker = await connectEngine()
    const container = containerName(spec.name, spec.root, name)
    const service = withEnginePorts(
      spec.services[name]!,
      (await docker.getContainer(container).inspect()).Config,
    ).service
    await docker.getContainer(container).restart({ t: Math.ceil(service.stopTimeoutMs / 1000) })
    const driver =
      runsInBoxImage(service) && service.health?.check.kind === 'box' ? await driverFor(service.kind) : undefined
    const context = hostContext(spec, service, readAddresses(spec.root), new AbortController().signal)
    return waitReady(docker, container, containerProbe(docker, container, service, driver, context), 120_000)
  }

  private async downNow(spec: EnvSpec): Promise<DownResult> {
    stopWatcher(spec.root)
    const docker = await connectEngine()
    const containers = await docker.listContainers({ all: true, filters: projectFilter(spec.root) })
    const wasRunning = containers.some((container) => container.State === 'running')
    await Promise.all(
      containers.map(async (container) => {
        const service = spec.services[container.Labels[LABELS.service] ?? '']
        const seconds = service ? Math.ceil(service.stopTimeoutMs / 1000) : 10
        const handle = docker.getContainer(container.Id)
        await handle.stop({ t: seconds }).catch(() => undefined)
        await handle.remove({ force: true }).catch(() => undefined)
      }),
    )
    for (const network of await docker.listNetworks({ filters: projectFilter(spec.root) })) {
      await docker
        .getNetwork(network.Id)
        .remove()
        .catch(() => undefined)
    }
    forgetRecord(spec.root)
    return { wasRunning }
  }

  private async buildNow(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    checkNames(spec, services)
    const names = services.length
      ? services
      : Object.keys(spec.services).filter((name) => spec.services[name]!.build || spec.services[name]!.imageBuild)
    const preparation = await this.loadPreparation()
    const docker = await connectEngine()
    const addresses = await allocateAddresses(spec.root, Object.keys(spec.services))
    for (const name of names) {
      const service = spec.services[name]!
      onEvent({ service: name, phase: 'building' })
      const dataDir = new ProjectPaths(spec.root).serviceData(name)
      if (service.build) {
        await preparation.build(
          service,
          {
            project: spec,
            env: serviceEnvironment(service, {
              project: spec.name,
              address: addresses[name]!,
              port: (declared) => declared,
              dataDir,
            }),
            dataDir,
            note: () => {},
            output: () => {},
            signal: new AbortController().signal,
          },
          true,
          (message) => onEvent({ service: name, phase: 'building', message }),
        )
      }
      if (service.imageBuild)
        await buildServiceImage(docker, spec, { ...service, imageBuild: service.imageBuild }, true, () => {})
      onEvent({ service: name, phase: 'ready', message: 'built' })
    }
    const state = await this.inspect(spec)
    return { ok: true, services: names.map((name) => state.services[name]!) }
  }

  async inspect(spec: EnvSpec): Promise<ProjectState> {
    const docker = await connectEngine()
    const containers = await docker.listContainers({ all: true, filters: projectFilter(spec.root) })
    const byService = new Map(containers.map((container) => [container.Labels[LABELS.service] ?? '', container.Id]))
    const record = readRecord(spec.root)
    const addresses = readAddresses(spec.root)
    const abort = new AbortController()
    const services = await Promise.all(
      Object.values(spec.services).map(async (written) => {
        const id = byService.get(written.name)
        const info = id
          ? await docker
              .getContainer(id)
              .inspect()
              .catch(() => undefined)
          : undefined
        const address = addresses[written.name] ?? ''
        const driver =
          runsInBoxImage(written) && written.health?.check.kind === 'box' ? await driverFor(written.kind) : undefined
        // As it was started: an image service without ports in the envfile has its image's.
        const service = written.image ? withEnginePorts(written, info?.Config).service : written
        const probe = info?.State.Running
          ? containerProbe(docker, info.Id, service, driver, hostContext(spec, service, addresses, abort.signal))
          : undefined
        return serviceState(spec, service, address, info, record?.stopped.includes(service.name) ?? false, probe)
      }),
    )
    return {
      project: spec.name,
      root: spec.root,
      envfile: spec.file,
      engine: `docker engine at ${engineAddress().text}`,
      services: Object.fromEntries(services.map((service) => [service.name, service])),
      updatedAt: new Date().toISOString(),
    }
  }

  service(spec: EnvSpec, name: string): ServiceHandle {
    checkNames(spec, [name])
    return new DockerServiceHandle(this, spec, name)
  }

  addresses(spec: EnvSpec, services: readonly string[]): Promise<Record<string, string>> {
    return allocateAddresses(spec.root, services)
  }

  async logs(spec: EnvSpec, services: readonly string[], query: LogQuery = {}): Promise<ServiceLogLine[]> {
    const docker = await connectEngine()
    const lines = await Promise.all(
      services.map((name) =>
        containerLogs(docker, containerName(spec.name, spec.root, name), name, query).catch(() => []),
      ),
    )
    return lines.flat().sort((a, b) => a.time.localeCompare(b.time))
  }

  async follow(
    spec: EnvSpec,
    services: readonly string[],
    onLine: (line: ServiceLogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const docker = await connectEngine()
    await Promise.all(
      services.map((name) => followContainer(docker, containerName(spec.name, spec.root, name), name, onLine, signal)),
    )
  }

  async commitImage(
    spec: EnvSpec,
    name: string,
    reference: string,
  ): Promise<{ image: string; id: string } | undefined> {
    const service = spec.services[name]!
    if (runsInBoxImage(service)) return undefined
    const docker = await connectEngine()
    const { commitContainerImage } = await import('./image-commit.js')
    return commitContainerImage(
      docker,
      containerName(spec.name, spec.root, name),
      new ProjectPaths(spec.root).serviceData(name),
      reference,
      {
        'dev.devenv.committed-from': `${spec.name}/${name}`,
      },
    )
  }

  activity(root: string): RuntimeActivity {
    const record = readRecord(root)
    const services = Object.keys(record?.containers ?? {}).filter((name) => !record?.stopped.includes(name))
    const count = Object.keys(record?.containers ?? {}).length
    return count
      ? { active: true, detail: `${count} container${count === 1 ? '' : 's'} on the docker engine`, services }
      : { active: false }
  }

  /** The project's network, made once: every service reaches the others by their hostnames on it. */
  private async ensureNetwork(docker: Docker, spec: EnvSpec): Promise<string> {
    const name = networkName(spec.name, spec.root)
    const existing = await docker.listNetworks({ filters: { name: [name] } })
    if (!existing.some((network) => network.Name === name)) {
      await docker
        .createNetwork({
          Name: name,
          Driver: 'bridge',
          CheckDuplicate: true,
          Labels: { [LABELS.project]: spec.root, [LABELS.name]: spec.name },
        })
        .catch((error: Error) => {
          if (!/already exists/.test(error.message)) throw error
        })
    }
    updateRecord(spec.root, name, (record) => {
      record.network = name
    })
    return name
  }
}
