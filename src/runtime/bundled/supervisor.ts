import { existsSync, rmSync } from 'node:fs'
import net from 'node:net'
import type { Endpoint } from '../../boxes/index.js'
import { driverFor } from '../../boxes/index.js'
import { startLayers, stopDependentsFirst, withDependencies } from '../../spec/index.js'
import { withImagesPorts } from './image-ports.js'
import type { EnvSpec } from '../../envfile/index.js'
import { DevenvError, diskFullError, isDevenvError } from '../../errors.js'
import { allocateAddresses } from '../../state/index.js'
import { ProjectPaths } from '../../state/index.js'
import type { ProjectState, ServiceState } from '../../state/index.js'
import { systemClock, type Clock } from '../../util/clock.js'
import type { ServiceEvent, ServicePreparation, UpOptions, UpResult } from '../runtime.js'
import { encode, MessageReader, type Reply, type Request } from './protocol.js'
import { SupervisedService } from './service.js'
import type { UnprivilegedUser } from '../../boxes/index.js'
import { unprivilegedRunner } from './users.js'
import { MountWatchers } from './mount-watchers.js'
import { BalancerNotices } from './balancer-notices.js'
import { StateWriter } from './state-writer.js'

/**
 * The per-project supervisor: owns the service processes, starts them in dependency order,
 * restarts them by policy, and keeps .devenv/state.json current. The CLI talks to it over a
 * unix socket (see protocol.ts).
 */
export class Supervisor {
  private spec: EnvSpec
  private readonly services = new Map<string, SupervisedService>()
  private readonly watchers = new MountWatchers()
  private readonly notices: BalancerNotices
  private readonly stateWriter: StateWriter
  private addresses: Record<string, string> = {}
  private server?: net.Server
  private stateTimer?: NodeJS.Timeout
  private user?: UnprivilegedUser
  private readonly startedAt = new Date().toISOString()
  private shuttingDown = false
  /** Operations that change services run one at a time, in the order they came (two `up`s at once, `up` racing `stop`). */
  private operations: Promise<unknown> = Promise.resolve()

  constructor(
    spec: EnvSpec,
    private readonly socketPath: string,
    private readonly preparation: ServicePreparation,
    private readonly clock: Clock = systemClock,
    private readonly onExit: () => void = () => process.exit(0),
  ) {
    this.spec = spec
    this.notices = new BalancerNotices(spec.root, () => this.services.values())
    this.stateWriter = new StateWriter(spec.root, (message) => process.stderr.write(`supervisor: ${message}\n`))
  }

  async listen(): Promise<void> {
    rmSync(this.socketPath, { force: true })
    this.server = net.createServer((connection) => this.accept(connection))
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.socketPath, resolve)
    })
    this.writeState()
    // A project folder deleted while its stack runs (rm -rf, a test's cleanup) ends the supervisor.
    setInterval(() => {
      if (!existsSync(new ProjectPaths(this.spec.root).dir)) void this.shutdown().finally(this.onExit)
    }, 5000).unref()
  }

  private accept(connection: net.Socket): void {
    // The replies of one tick (a layer of services changing phase at once) leave as one write:
    // each write wakes the CLI, which on two cores competes with the services starting.
    let corked = false
    const send = (reply: Reply): void => {
      if (connection.destroyed) return
      if (!corked) {
        corked = true
        connection.cork()
        process.nextTick(() => {
          corked = false
          connection.uncork()
        })
      }
      connection.write(encode(reply))
    }
    const reader = new MessageReader<Request>((request) => void this.handle(request, send))
    connection.on('data', (chunk) => {
      try {
        reader.push(chunk)
      } catch {
        connection.destroy()
      }
    })
    connection.on('error', () => connection.destroy())
  }

  private async handle(request: Request, send: (reply: Reply) => void): Promise<void> {
    try {
      switch (request.op) {
        case 'ping':
          send({ id: request.id, type: 'result', result: { pid: process.pid } })
          return
        case 'state':
          // Asked because state.json could not be read: write it anew too.
          this.writeState()
          send({ id: request.id, type: 'result', result: this.currentState(true) })
          return
        case 'shutdown':
          // Not queued: `down` wins over an `up` still bringing services up, which then fails saying so.
          await this.shutdown()
          send({ id: request.id, type: 'result', result: null })
          setImmediate(() => this.onExit())
          return
        default:
          await this.serialised(() => this.change(request, send))
      }
    } catch (error) {
      send({ id: request.id, type: 'error', error: toProblem(error, new ProjectPaths(this.spec.root).dir) })
    }
  }

  private serialised(work: () => Promise<void>): Promise<void> {
    const next = this.operations.then(work)
    this.operations = next.catch(() => undefined)
    return next
  }

  private async change(
    request: Exclude<Request, { op: 'ping' | 'state' | 'shutdown' }>,
    send: (reply: Reply) => void,
  ): Promise<void> {
    if (this.shuttingDown)
      throw new DevenvError('SUPERVISOR', 'the project is being stopped (`devenv down`): nothing was started', {
        hint: 'Run `devenv up` again once it is down.',
      })
    const event = (serviceEvent: ServiceEvent): void => send({ id: request.id, type: 'event', event: serviceEvent })
    switch (request.op) {
      case 'up':
        send({ id: request.id, type: 'result', result: await this.up(request.spec, request.options, event) })
        return
      case 'stop':
        this.spec = request.spec
        send({ id: request.id, type: 'result', result: await this.stop(request.services) })
        return
      case 'restart':
        await this.stop(request.services)
        send({
          id: request.id,
          type: 'result',
          result: await this.up(request.spec, { services: request.services, recreate: false }, event),
        })
        return
      case 'build':
        send({ id: request.id, type: 'result', result: await this.build(request.spec, request.services, event) })
        return
    }
  }

  /** Brings the named services (and their dependencies) up; independent ones in parallel. */
  async up(written: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    const { spec, notes: imageNotes } = await withImagesPorts(
      written,
      withDependencies(written, options.services),
      (service, message) => onEvent({ service, phase: 'starting', message }),
    )
    this.spec = spec
    const targets = withDependencies(spec, options.services)
    this.watchers.preload(targets.map((name) => spec.services[name]!))
    if (options.services.length === 0) await this.removeOrphans(spec)
    const addresses = await allocateAddresses(spec.root, Object.keys(spec.services))
    this.addresses = addresses
    const readiness = new Map<string, Promise<void>>()
    let failure: UpResult['failed']

    const bringUp = async (name: string): Promise<void> => {
      const serviceSpec = spec.services[name]!
      const existing = this.services.get(name)
      const unchanged = existing && existing.definition === JSON.stringify(serviceSpec) && !options.recreate
      if (unchanged && (existing.state.state === 'running' || existing.state.state === 'starting')) {
        await existing.waitReady()
        await existing.settle()
        onEvent({ service: name, phase: 'unchanged', message: describeReady(existing) })
        return
      }
      if (serviceSpec.dependsOn.length) {
        onEvent({
          service: name,
          phase: 'waiting',
          message: `waiting for ${serviceSpec.dependsOn.map((dependency) => dependency.service).join(', ')}`,
        })
        for (const dependency of serviceSpec.dependsOn) {
          try {
            await readiness.get(dependency.service)
          } catch {
            throw new DevenvError('SERVICE_FAILED', `service ${name} not started: ${dependency.service} failed`)
          }
          const dependencyService = this.services.get(dependency.service)
          if (dependency.condition === 'completed' && dependencyService && !dependencyService.completed) {
            throw new DevenvError(
              'SERVICE_FAILED',
              `service ${name} not started: ${dependency.service} did not complete`,
            )
          }
        }
      }
      if (this.shuttingDown)
        throw new DevenvError(
          'SUPERVISOR',
          `service ${name} not started: the project is being stopped (\`devenv down\`)`,
        )
      if (existing) {
        await this.watchers.stop(name)
        await existing.stop()
        existing.closeLog()
      }
      const service = new SupervisedService(
        serviceSpec,
        addresses[name]!,
        await driverFor(serviceSpec.kind),
        this.host(),
      )
      this.services.set(name, service)
      for (const note of imageNotes.get(name) ?? []) service.note(note)
      await service.start((message) =>
        onEvent({
          service: name,
          phase: message.startsWith('building') ? 'building' : message === 'preparing' ? 'preparing' : 'starting',
          message,
        }),
      )
      onEvent({
        service: name,
        phase: 'health',
        message: serviceSpec.health ? `waiting for ${describeCheck(serviceSpec)}` : 'started',
      })
      await service.waitReady()
      await this.watchers.start(service)
      onEvent({ service: name, phase: 'ready', message: describeReady(service) })
    }

    for (const layer of startLayers(spec, targets)) {
      for (const name of layer) {
        const promise = bringUp(name).catch((error: unknown) => {
          const service = this.services.get(name)
          const diskFull = diskFullError(error, new ProjectPaths(spec.root).dir)
          const reason = diskFull?.message ?? (error instanceof Error ? error.message : String(error))
          const message =
            this.shuttingDown && !reason.includes('devenv down')
              ? `${reason}: the project is being stopped (\`devenv down\`)`
              : reason
          const lastLines = diskFull
            ? [diskFull.hint!]
            : isDevenvError(error) && error.details.length
              ? error.details
              : (service?.lastLines() ?? [])
          failure ??= { service: name, message, lastLines }
          onEvent({ service: name, phase: 'failed', message, lastLines })
          throw error
        })
        promise.catch(() => undefined)
        readiness.set(name, promise)
      }
    }
    await Promise.allSettled(readiness.values())
    this.writeState()
    return {
      ok: !failure,
      services: targets.map((name) => this.services.get(name)?.state).filter((state): state is ServiceState => !!state),
      ...(failure ? { failed: failure } : {}),
    }
  }

  async build(spec: EnvSpec, names: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    this.spec = spec
    const targets = (names.length ? names : Object.keys(spec.services)).filter((name) => spec.services[name]?.build)
    const addresses = await allocateAddresses(spec.root, Object.keys(spec.services))
    let failure: UpResult['failed']
    for (const name of targets) {
      const service =
        this.services.get(name) ??
        new SupervisedService(
          spec.services[name]!,
          addresses[name]!,
          await driverFor(spec.services[name]!.kind),
          this.host(),
        )
      try {
        await service.build(true, (message) => onEvent({ service: name, phase: 'building', message }))
        onEvent({ service: name, phase: 'ready', message: 'built' })
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        const lastLines = isDevenvError(error) ? error.details : []
        failure ??= { service: name, message, lastLines }
        onEvent({ service: name, phase: 'failed', message, lastLines })
      }
      if (!this.services.has(name)) service.closeLog()
    }
    return { ok: !failure, services: [], ...(failure ? { failed: failure } : {}) }
  }

  /** Stops services, dependents first (stopDependentsFirst); all when none are named. */
  async stop(names: string[]): Promise<ServiceState[]> {
    const known = [...this.services.keys()]
    const targets = names.length ? names.filter((name) => this.services.has(name)) : known
    // One service failing to stop cleanly must not keep the others running, nor fail the stop.
    await stopDependentsFirst(this.specFor(known), targets, async (name) => {
      await this.watchers.stop(name).catch(() => undefined)
      await this.services.get(name)!.stop()
    })
    this.writeState()
    return targets.map((name) => this.services.get(name)!.state)
  }

  async shutdown(): Promise<void> {
    if (this.shuttingDown) return
    this.shuttingDown = true
    await this.watchers.stopAll()
    await this.stop([])
    // An `up` in flight fails as its services stop; one it was starting at that moment is stopped once it is done.
    await Promise.race([this.operations, new Promise((resolve) => setTimeout(resolve, 30_000).unref())])
    await this.stop([])
    for (const service of this.services.values()) service.closeLog()
    // Not awaited: close() waits for open connections, and the one that asked is still open for the reply.
    this.server?.close()
    rmSync(this.socketPath, { force: true })
    this.writeStateNow(false)
  }

  /** Services that left the envfile are stopped and forgotten. */
  private async removeOrphans(spec: EnvSpec): Promise<void> {
    for (const [name, service] of this.services) {
      if (!spec.services[name]) {
        await this.watchers.stop(name)
        await service.stop()
        service.closeLog()
        this.services.delete(name)
      }
    }
  }

  /** The current spec restricted to services we run (a removed service still stops in order). */
  private specFor(names: string[]): EnvSpec {
    const services = Object.fromEntries(
      names.map((name) => [name, this.spec.services[name] ?? this.services.get(name)!.spec]),
    )
    const known = new Set(names)
    for (const service of Object.values(services))
      service.dependsOn = service.dependsOn.filter((dependency) => known.has(dependency.service))
    return { ...this.spec, services }
  }

  private host() {
    return {
      project: this.spec,
      clock: this.clock,
      // A service not started yet (the lb's backends) is still found: its address is allocated up front.
      endpoint: (name: string): Endpoint => {
        const service = this.services.get(name)
        if (service) return service.bound
        const address = this.addresses[name]
        if (!address) throw new DevenvError('NOT_FOUND', `no service ${name} in this project`)
        return { address, port: (declared) => declared }
      },
      hostsMap: () => this.hostsMap(),
      unprivilegedUser: async () => (this.user ??= unprivilegedRunner()),
      changed: () => this.scheduleState(),
      announce: (service: string, ready: boolean) => this.notices.announce(service, ready),
      preparation: this.preparation,
    }
  }

  private hostsMap(): Record<string, string> {
    const map: Record<string, string> = {}
    for (const service of this.services.values())
      for (const hostname of service.spec.hostnames) map[hostname] = service.address
    for (const [name, spec] of Object.entries(this.spec.services)) {
      const service = this.services.get(name)
      if (service) for (const hostname of spec.hostnames) map[hostname] = service.address
    }
    return map
  }

  private scheduleState(): void {
    if (this.stateTimer) return
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined
      if (existsSync(new ProjectPaths(this.spec.root).dir)) this.stateWriter.writeSoon(this.currentState(true))
      else this.writeState()
    }, 10)
  }

  writeState(): void {
    this.writeStateNow(true)
  }

  private writeStateNow(alive: boolean): void {
    if (this.stateTimer) clearTimeout(this.stateTimer)
    this.stateTimer = undefined
    if (!existsSync(new ProjectPaths(this.spec.root).dir)) {
      // The project folder was deleted under us: nothing to write to, and nobody left to serve.
      if (alive) void this.shutdown().finally(this.onExit)
      return
    }
    this.stateWriter.write(this.currentState(alive))
  }

  /** What state.json holds; also the answer to `state` when the file cannot be read. */
  private currentState(alive: boolean): ProjectState {
    return {
      project: this.spec.name,
      root: this.spec.root,
      envfile: this.spec.file,
      ...(alive ? { supervisor: { pid: process.pid, startedAt: this.startedAt } } : {}),
      services: Object.fromEntries([...this.services].map(([name, service]) => [name, service.state])),
      updatedAt: new Date().toISOString(),
    }
  }
}

/** `folder`: where the supervisor writes, named by a full disk's message when the error has no path. */
function toProblem(
  error: unknown,
  folder: string,
): { code: string; message: string; hint?: string; details?: string[] } {
  const known = isDevenvError(error) ? error : diskFullError(error, folder)
  return known
    ? { code: known.code, message: known.message, ...(known.hint ? { hint: known.hint } : {}), details: known.details }
    : { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) }
}

function describeCheck(spec: EnvSpec['services'][string]): string {
  const check = spec.health!.check
  switch (check.kind) {
    case 'tcp':
      return `tcp :${check.port}`
    case 'http':
      return `GET ${check.path}`
    case 'command':
      return 'health command'
    case 'box':
      return `${spec.kind} to accept connections`
  }
}

function describeReady(service: SupervisedService): string {
  const ports = service.state.ports.map((port) => `${port.bound}`).join(',')
  return ports ? `${service.address}:${ports}` : service.address
}
