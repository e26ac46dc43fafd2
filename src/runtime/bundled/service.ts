import { mkdirSync } from 'node:fs'
import path from 'node:path'
import type { BoxDriver, Endpoint, Launch, ServiceContext, UnprivilegedUser } from '../../boxes/index.js'
import { serviceEnvironment } from '../../spec/index.js'
import type { EnvSpec, HealthSpec, ServiceSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { machineHome, ProjectPaths } from '../../state/index.js'
import type { ServiceHealth, ServiceState } from '../../state/index.js'
import type { Clock } from '../../util/clock.js'
import type { PreparationContext, ServicePreparation } from '../runtime.js'
import { PortForwarder } from './forwarder.js'
import { HealthMonitor, serviceProbe, type HealthStatus } from '../probes.js'
import { LogWriter } from './logs.js'
import { ManagedProcess, type Exit } from './process.js'
import { inMountNamespace } from './mount-namespace.js'
import type { ServiceNetwork } from './netns.js'
import { packWhiteouts } from './whiteouts.js'
import { inCgroups, prepareCgroups, removeCgroups, type CgroupPlan } from './cgroups.js'
import { planPorts, type PortPlan } from './ports.js'
import { ownerMark } from './owned-processes.js'
import { RestartPolicy } from './restart-policy.js'
import { diskFullCause, RunExcerpt } from './run-excerpt.js'
import { describeLaunch } from './launch-text.js'

/** What a service needs from the supervisor that runs it. */
export interface ServiceHost {
  project: EnvSpec
  clock: Clock
  machineHome?: string
  /** Another running service, for ctx.endpoint(). */
  endpoint(service: string): Endpoint
  /** The project's hostnames → addresses, for name resolution inside the stack. */
  hostsMap(): Record<string, string>
  /** An unprivileged user for boxes that refuse root. */
  unprivilegedUser(): Promise<UnprivilegedUser | undefined>
  changed(): void
  /** The service became ready, or stopped being (or is about to): load balancers in front of it are told. */
  announce(service: string, ready: boolean): Promise<void>
  /** The engine's part of every start: build, data recovery, seeding from a box. */
  preparation: ServicePreparation
}

const READY_TIMEOUT_MS = 120_000

/**
 * One service under supervision: prepares it, runs its process, watches its health, and
 * restarts it by its policy. Its `state` is what `devenv status` shows.
 */
export class SupervisedService {
  readonly state: ServiceState
  readonly definition: string
  private process?: ManagedProcess
  private health?: HealthMonitor
  private forwarders: PortForwarder[] = []
  /** An image service's own network namespace and its relay. */
  private network?: ServiceNetwork
  private cgroups?: CgroupPlan
  /** The image config's Healthcheck, when the envfile declares no health. */
  private imageHealth?: HealthSpec
  /**
   * The image support (OCI store, layers, user and network namespaces), loaded by the first start
   * of an image service: with its tar reader it is ~20 ms of a supervisor's start that no process
   * service needs.
   */
  private imageSupport?: typeof import('./image-service.js')
  private ports: PortPlan[] = []
  private readonly log: LogWriter
  /** What the current run wrote, for failure reports. */
  private readonly excerpt = new RunExcerpt()
  private runStartedAt = 0
  private readonly paths: ProjectPaths
  private wanted = false
  private readonly restartPolicy: RestartPolicy
  private readyWaiters = new Set<() => void>()
  private abort = new AbortController()

  constructor(
    readonly spec: ServiceSpec,
    readonly address: string,
    private readonly driver: BoxDriver,
    private readonly host: ServiceHost,
  ) {
    this.paths = new ProjectPaths(host.project.root)
    this.definition = JSON.stringify(spec)
    this.restartPolicy = new RestartPolicy(spec.restart)
    this.log = new LogWriter(this.paths.serviceLog(spec.name), undefined, undefined, (stream, text) =>
      this.excerpt.add(stream, text),
    )
    this.state = {
      name: spec.name,
      // An image service shows its image where others show their box.
      box: spec.image ?? (spec.box.tag ? `${spec.box.name}:${spec.box.tag}` : spec.box.name),
      kind: spec.kind,
      state: 'stopped',
      health: spec.health ? 'starting' : 'none',
      address,
      hostnames: spec.hostnames,
      ports: [],
      restarts: 0,
    }
  }

  get ready(): boolean {
    return this.state.state === 'running' && (this.state.health === 'healthy' || this.state.health === 'none')
  }

  get bound(): Endpoint {
    return {
      address: this.address,
      port: (declared) => this.ports.find((plan) => plan.declared === declared)?.bound ?? declared,
    }
  }

  /** The last lines of the current run (its first error line in front), for failure reports. */
  lastLines(count = 15): string[] {
    return this.excerpt.tail(count)
  }

  note(text: string): void {
    this.log.line('devenv', text)
  }

  /** Builds when its inputs changed (or always, when forced). */
  build(force: boolean, onPhase: (message: string) => void): Promise<boolean> {
    return this.host.preparation.build(this.spec, this.preparationContext(), force, onPhase)
  }

  private preparationContext(): PreparationContext {
    return {
      project: this.host.project,
      env: this.environment(),
      dataDir: this.paths.serviceData(this.spec.name),
      note: (line) => this.note(line),
      output: (stream, data) => this.log.chunk(stream, data),
      signal: this.abort.signal,
    }
  }

  /** Prepares and starts the process; resolves once it is spawned (not yet ready). */
  async start(onPhase: (message: string) => void = () => {}): Promise<void> {
    this.wanted = true
    this.abort = new AbortController()
    this.excerpt.reset()
    this.set({
      state: 'starting',
      health: this.spec.health ? 'starting' : 'none',
      message: undefined,
      exitCode: undefined,
    })
    try {
      await this.launch(onPhase)
    } catch (error) {
      this.wanted = false
      // It may have been spawned already (a published port taken): a failed service must not run on.
      await this.halt()
      const message = error instanceof Error ? error.message : String(error)
      this.note(`failed to start: ${message}`)
      this.set({ state: 'failed', message })
      throw error
    }
  }

  private async launch(onPhase: (message: string) => void): Promise<void> {
    const shared = this.address === '127.0.0.1'
    this.ports = await planPorts(this.spec.name, this.address, this.spec.ports, shared)
    const notes = this.ports.flatMap((plan) => (plan.note ? [plan.note] : []))
    notes.forEach((note) => this.note(note))
    await this.build(false, onPhase)
    const context = await this.context()
    await this.host.preparation.prepareData(this.spec, this.preparationContext())
    mkdirSync(context.dataDir, { recursive: true })
    mkdirSync(context.runDir, { recursive: true })
    onPhase('preparing')
    await this.driver.prepare?.(context)
    if (this.spec.image) this.imageSupport ??= await import('./image-service.js')
    const image = this.spec.image
      ? await this.imageSupport!.imageLaunch(context, this.paths.serviceDir(this.spec.name), onPhase, this.host.project)
      : undefined
    const declared: Launch = image?.launch ?? (await this.driver.launch(context))
    this.imageHealth = this.spec.health ? undefined : image?.health
    if (this.imageHealth) this.set({ health: 'starting' })
    if (context.runAs?.uid !== undefined && declared.uid === undefined)
      Object.assign(declared, { uid: context.runAs.uid, gid: context.runAs.gid })
    // Mounts appear at their targets where the platform allows; elsewhere they are read at their host paths.
    const bound = image
      ? undefined
      : inMountNamespace(declared, this.spec.mounts, path.join(this.paths.serviceDir(this.spec.name), 'root'))
    const launch = bound ?? declared
    launch.env = { ...launch.env, ...ownerMark(this.host.project.root) }
    this.lastLaunchSignal = launch.stopSignal
    const limits = this.spec.resources
      ? prepareCgroups(this.host.project.root, this.host.project.name, this.spec.name, this.spec.resources)
      : undefined
    if (limits) notes.push(limits.description)
    this.cgroups = limits
    onPhase('starting')
    const child = new ManagedProcess(limits ? inCgroups(launch, limits) : launch, (stream, data) =>
      this.log.chunk(stream, data),
    )
    this.process = child
    this.runStartedAt = this.host.clock.now()
    // The service's own command: not the mount wrapper around it, nor the shell that execs it.
    this.note(`started pid ${child.pid}: ${image?.description ?? describeLaunch(declared)}`)
    this.set({
      pid: child.pid,
      pidStart: child.startTicks,
      startedAt: new Date().toISOString(),
      ports: this.ports.map((plan) => {
        const published = this.spec.publish.find((entry) => entry.port === plan.declared)
        return {
          port: plan.declared,
          bound: plan.bound,
          address: plan.address,
          ...(published ? { published: { address: published.hostAddress, port: published.hostPort } } : {}),
        }
      }),
      notes,
      mounts: this.spec.mounts.length ? (bound || image ? 'bind' : 'resolved') : undefined,
    })
    void child.exited.then((exit) => this.exited(child, exit))
    if (image)
      this.network = await this.imageSupport!.openImageNetwork(
        context,
        this.host.project,
        child.pid!,
        this.ports.map((plan) => ({ declared: plan.declared, bound: plan.bound })),
      )
    for (const entry of this.spec.publish) {
      const forwarder = await PortForwarder.open(
        this.spec.name,
        { address: entry.hostAddress, port: entry.hostPort },
        { address: this.address, port: this.bound.port(entry.port) },
      )
      this.forwarders.push(forwarder)
      if (forwarder.note) {
        this.note(forwarder.note)
        const ports = this.state.ports.map((port) =>
          port.published?.port === entry.hostPort
            ? { ...port, published: { address: entry.hostAddress, port: forwarder.port } }
            : port,
        )
        this.set({ ports, notes: [...(this.state.notes ?? []), forwarder.note] })
      }
    }
    this.watchHealth(context)
  }

  /**
   * Right after spawn: the box's first-boot work (it waits for its server itself: postgres seeds
   * before its probe can pass), then the health check decides readiness.
   */
  private watchHealth(context: ServiceContext): void {
    const health = this.spec.health ?? this.imageHealth
    // An image service's health command runs inside it, as `docker exec` would.
    const probe =
      this.spec.image && health?.check.kind === 'command' && this.process?.pid
        ? this.imageSupport!.imageCommandProbe(health.check.command, this.process.pid, context.runDir)
        : serviceProbe(this.spec, this.bound, this.driver, context)
    if (probe && health) {
      this.health = new HealthMonitor(probe, health, this.host.clock, (status: HealthStatus, reason) => {
        if (status === 'unhealthy') this.note(`unhealthy: ${reason}`)
        if (status === 'healthy' && this.state.health === 'unhealthy') this.note('healthy again')
        this.set({ health: status as ServiceHealth, message: status === 'unhealthy' ? reason : undefined })
        if (status === 'healthy' && this.state.state === 'running') this.restartPolicy.recovered()
      })
    }
    void this.initialise(context).then((ok) => {
      if (!ok) return
      this.set({ state: 'running' })
      // A box's initialise returns once it is ready by its own measure (postgres: every database
      // there), which is what its probe asks again: a user's own health check is still asked.
      this.health?.start(!!this.driver.initialise && health?.check.kind === 'box')
      if (!this.health) this.note('ready')
    })
  }

  /** See BoxDriver.settle: for `up` of this service while it runs unchanged. */
  async settle(): Promise<void> {
    if (!this.driver.settle || this.state.state !== 'running') return
    try {
      await this.driver.settle(await this.context())
    } catch (error) {
      this.note(`settle failed: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  private async initialise(context: ServiceContext): Promise<boolean> {
    if (!this.driver.initialise) return true
    try {
      await this.driver.initialise(context)
      return true
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      this.note(`initialise failed: ${message}`)
      for (const detail of error instanceof DevenvError ? error.details : []) this.note(detail)
      this.wanted = false
      await this.halt()
      this.set({ state: 'failed', message })
      return false
    }
  }

  /** Resolves when ready; rejects when it fails, exits for good, or the deadline passes. */
  waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.ready) {
          resolve()
          return true
        }
        if (
          this.state.state === 'failed' ||
          this.state.state === 'stopped' ||
          (this.state.state === 'exited' && !this.wanted)
        ) {
          reject(
            new DevenvError(
              'SERVICE_FAILED',
              `service ${this.spec.name} ${this.state.state === 'exited' ? `exited (code ${this.state.exitCode})` : this.state.state}${this.state.message ? `: ${this.state.message}` : ''}`,
              { details: this.lastLines() },
            ),
          )
          return true
        }
        return false
      }
      if (check()) return
      const timer = setTimeout(() => {
        this.readyWaiters.delete(waiter)
        const reason = this.health?.lastReason
        reject(
          new DevenvError(
            'HEALTH_TIMEOUT',
            `service ${this.spec.name} was not ready after ${Math.round(timeoutMs / 1000)} s${reason ? `: ${reason}` : ''}`,
            { details: this.lastLines() },
          ),
        )
      }, timeoutMs)
      const waiter = (): void => {
        if (check()) {
          clearTimeout(timer)
          this.readyWaiters.delete(waiter)
        }
      }
      this.readyWaiters.add(waiter)
    })
  }

  /** Has it run to completion (exit 0) — for depends_on: { condition: completed }? */
  get completed(): boolean {
    return this.state.state === 'exited' && this.state.exitCode === 0
  }

  private exited(child: ManagedProcess, exit: Exit): void {
    if (child !== this.process) return
    void this.network?.close()
    this.network = undefined
    if (this.cgroups) removeCgroups(this.cgroups)
    // At once, before a stop waiting on this exit returns: a snapshot copies the layer next.
    if (this.spec.image)
      packWhiteouts(
        path.join(this.paths.serviceData(this.spec.name), 'rootfs'),
        process.getuid?.() === 0 ? 'trusted.overlay.opaque' : 'user.overlay.opaque',
      )
    this.health?.stop()
    this.health = undefined
    this.process = undefined
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`
    this.log.flush()
    if (!this.wanted) {
      this.note(`stopped (${how})`)
      this.set({ state: 'stopped', pid: undefined, pidStart: undefined, exitCode: exit.code })
      return
    }
    this.note(`exited (${how})`)
    const firstError = this.excerpt.firstError()
    if (this.restartingForChange) {
      // The files just changed: starting them again would fail the same way. The next save retries.
      this.wanted = false
      void this.closeForwarders()
      this.set({
        state: 'failed',
        pid: undefined,
        pidStart: undefined,
        exitCode: exit.code,
        message: `exited with ${how} after a change to its watched files${firstError ? ` (${firstError})` : ''}; fix them and save again`,
      })
      return
    }
    const now = this.host.clock.now()
    const decision = this.restartPolicy.afterExit(exit, now, {
      durationMs: now - this.runStartedAt,
      ...(firstError ? { firstError } : {}),
    })
    if (decision.action !== 'restart') {
      this.wanted = false
      void this.closeForwarders()
      if (decision.action === 'give-up') this.note(decision.message)
      const exitMessage =
        decision.action === 'give-up'
          ? decision.message
          : decision.failed
            ? `exited with ${how}${firstError ? `: ${firstError}` : ''}`
            : undefined
      const diskFull = diskFullCause(this.excerpt, this.paths.serviceData(this.spec.name))
      if (diskFull) this.note(diskFull.error.hint!)
      const message = diskFull ? `${diskFull.error.message}: ${diskFull.line}` : exitMessage
      const state = decision.action === 'stay-down' && !decision.failed ? 'exited' : 'failed'
      this.set({ state, pid: undefined, pidStart: undefined, exitCode: exit.code, message })
      return
    }
    const backoff = decision.delayMs
    this.note(`restarting in ${backoff} ms (restart ${this.state.restarts + 1})`)
    this.set({
      state: 'starting',
      health: this.spec.health ? 'starting' : 'none',
      pid: undefined,
      pidStart: undefined,
      exitCode: exit.code,
      restarts: this.state.restarts + 1,
    })
    void this.closeForwarders()
      .then(() => this.host.clock.sleep(backoff, this.abort.signal))
      .then(
        () => (this.wanted ? this.start() : undefined),
        () => undefined,
      )
      .catch(() => undefined)
  }

  /**
   * A watched mount changed: stop and start again (not counted as a crash), and wait until ready.
   * An exit before then fails it at once (the next save retries); `signal` ends the wait early.
   */
  async restartForChange(signal?: AbortSignal): Promise<void> {
    this.wanted = false
    this.abort.abort()
    // Out of the balancers' rotation before it stops, so that no request is sent to it meanwhile.
    if (this.announcedReady) {
      this.announcedReady = false
      await this.host.announce(this.spec.name, false)
    }
    await this.halt()
    if (signal?.aborted) return
    // Until it is ready again, an exit means the change broke it: no crash-loop restarts.
    this.restartingForChange = true
    try {
      await this.start()
      // Changed again, or watching stopped (the service is being stopped or replaced): stop waiting.
      await Promise.race([
        this.waitReady(),
        new Promise<void>((resolve) => signal?.addEventListener('abort', () => resolve(), { once: true })),
      ])
    } finally {
      this.restartingForChange = false
    }
  }

  private restartingForChange = false
  /** What the load balancers were last told about this service. */
  private announcedReady = false

  /** Stops it for good (until started again). */
  async stop(): Promise<void> {
    this.wanted = false
    this.abort.abort()
    await this.halt()
    this.set({ state: 'stopped', pid: undefined, pidStart: undefined })
  }

  private async halt(): Promise<void> {
    this.health?.stop()
    this.health = undefined
    await this.closeForwarders()
    const child = this.process
    if (child?.running) {
      await child.stop(this.stopSignal(), this.spec.stopTimeoutMs, this.host.clock)
    }
  }

  private stopSignal(): NodeJS.Signals {
    return this.lastLaunchSignal ?? 'SIGTERM'
  }

  private lastLaunchSignal?: NodeJS.Signals

  private async closeForwarders(): Promise<void> {
    const forwarders = this.forwarders
    this.forwarders = []
    await this.network?.close()
    this.network = undefined
    await Promise.all(forwarders.map((forwarder) => forwarder.close()))
  }

  closeLog(): void {
    this.log.close()
  }

  environment(): Record<string, string> {
    const env = serviceEnvironment(this.spec, {
      project: this.host.project.name,
      address: this.address,
      port: this.bound.port,
      dataDir: this.paths.serviceData(this.spec.name),
    })
    env.DEVENV_HOSTS = JSON.stringify(this.host.hostsMap())
    return env
  }

  private async context(): Promise<ServiceContext> {
    const runAs = this.driver.unprivileged && process.getuid?.() === 0 ? await this.host.unprivilegedUser() : undefined
    const context: ServiceContext = {
      project: {
        name: this.host.project.name,
        root: this.host.project.root,
        ...(this.host.project.domain ? { domain: this.host.project.domain } : {}),
      },
      service: this.spec,
      address: this.address,
      port: this.bound.port,
      dataDir: this.paths.serviceData(this.spec.name),
      runDir: path.join(this.paths.serviceDir(this.spec.name), 'run'),
      machineHome: this.host.machineHome ?? machineHome(),
      env: this.environment(),
      log: (line) => this.note(line),
      endpoint: (service) => this.host.endpoint(service),
      peer: (service) => this.host.project.services[service],
      signal: this.abort.signal,
      ...(runAs ? { runAs } : {}),
    }
    return context
  }

  private set(changes: Partial<ServiceState>): void {
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) delete (this.state as unknown as Record<string, unknown>)[key]
      else (this.state as unknown as Record<string, unknown>)[key] = value
    }
    // Health describes a running process; a stopped, exited or failed service has none.
    if (this.state.state !== 'running' && this.state.state !== 'starting') this.state.health = 'none'
    this.host.changed()
    if (this.ready !== this.announcedReady) {
      this.announcedReady = this.ready
      void this.host.announce(this.spec.name, this.ready)
    }
    for (const waiter of [...this.readyWaiters]) waiter()
  }
}
