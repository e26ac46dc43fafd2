import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, openSync } from 'node:fs'
import net from 'node:net'
import type { EnvSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { carryingExtraCaCerts } from '../../util/node-start-env.js'
import { notice } from '../../util/notices.js'
import { writeJsonAtomic } from '../../state/index.js'
import { withFileLock } from '../../state/index.js'
import { ProjectPaths } from '../../state/index.js'
import { allocateAddresses, readAddresses } from '../../state/index.js'
import { readProjectState, type ProjectState, type ServiceState } from '../../state/index.js'
import { checkNames } from '../../spec/index.js'
import type {
  DownResult,
  LogQuery,
  Runtime,
  RuntimeActivity,
  RuntimeOptions,
  ServiceEvent,
  ServiceHandle,
  ServiceLogLine,
  UpOptions,
  UpResult,
} from '../runtime.js'
import { followLog, mergeByTime, readServiceLog } from './log-reader.js'
import { stateFileUnreadable } from './state-file.js'
import { BundledServiceHandle } from './service-handle.js'
import { supervisorBuild, supervisorFiles, supervisorMain } from './locate.js'
import { commandStandby, dropStandbySupervisor, takeStandbySupervisor } from './standby.js'
import { isSameProcess } from './process.js'
import { encode, MessageReader, type Reply, type Request } from './protocol.js'
import { liveSupervisor, recoverOrphans } from './recovery.js'

const START_TIMEOUT_MS = 10_000
/** A supervisor in standby answers some 5-30 ms after its orders: at 10 ms, `up` waited 5 ms more on average. */
const START_POLL_MS = 2

/** Does the supervisor of `spec` pull images (from a registry, over TLS unless on loopback)? */
function needsPulls(spec: EnvSpec): boolean {
  return Object.values(spec.services).some((service) => service.image !== undefined)
}

type RequestBody = Request extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never

/** The CLI side of the bundled runtime: starts the project's supervisor when needed and talks to it. */
export class BundledRuntime implements Runtime {
  readonly name = 'bundled'
  private nextId = 1

  constructor(private readonly options: RuntimeOptions) {}

  async up(spec: EnvSpec, options: UpOptions, onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    const socket = await this.ensureSupervisor(spec)
    return (await this.request(socket, { op: 'up', spec, options }, onEvent)) as UpResult
  }

  async restart(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    const socket = await this.ensureSupervisor(spec)
    return (await this.request(socket, { op: 'restart', spec, services }, onEvent)) as UpResult
  }

  async build(spec: EnvSpec, services: string[], onEvent: (event: ServiceEvent) => void): Promise<UpResult> {
    const socket = await this.ensureSupervisor(spec)
    return (await this.request(socket, { op: 'build', spec, services }, onEvent)) as UpResult
  }

  async stop(spec: EnvSpec, services: string[]): Promise<ServiceState[]> {
    const supervisor = liveSupervisor(spec.root)
    if (!supervisor) {
      await recoverOrphans(spec.root)
      return Object.values(readProjectState(spec.root)?.services ?? {})
    }
    return (await this.request(supervisor.socket, { op: 'stop', spec, services }, () => {})) as ServiceState[]
  }

  async down(spec: EnvSpec): Promise<DownResult> {
    // Under the lock `up` starts the supervisor with: a supervisor still starting is waited for and stopped, not missed.
    return withFileLock(supervisorFiles(spec.root).lock, async () => {
      const supervisor = liveSupervisor(spec.root)
      if (supervisor) {
        await this.request(supervisor.socket, { op: 'shutdown' }, () => {})
        await waitGone(supervisor.pid, supervisor.pidStart)
      }
      const orphans = await recoverOrphans(spec.root)
      return { wasRunning: Boolean(supervisor) || orphans.length > 0 }
    })
  }

  async inspect(spec: EnvSpec): Promise<ProjectState> {
    const supervisor = liveSupervisor(spec.root)
    if (!stateFileUnreadable(spec.root)) return inspectProject(spec)
    const problem = `${new ProjectPaths(spec.root).state} could not be read`
    if (!supervisor)
      return {
        ...inspectProject(spec),
        warnings: [
          `${problem}; \`devenv up\` or \`devenv down\` find the project's processes by their mark and stop them`,
        ],
      }
    // The supervisor knows: ask it, and have it write the file anew.
    const live = (await this.request(supervisor.socket, { op: 'state' }, () => {})) as ProjectState
    return { ...inspectProject(spec, live), warnings: [`${problem}; asked the supervisor instead`] }
  }

  service(spec: EnvSpec, name: string): ServiceHandle {
    checkNames(spec, [name])
    return new BundledServiceHandle(this, spec, name)
  }

  addresses(spec: EnvSpec, services: readonly string[]): Promise<Record<string, string>> {
    return allocateAddresses(spec.root, services)
  }

  async logs(spec: EnvSpec, services: readonly string[], query: LogQuery = {}): Promise<ServiceLogLine[]> {
    const paths = new ProjectPaths(spec.root)
    return mergeByTime(services.map((name) => readServiceLog(paths.serviceLog(name), name, query)))
  }

  async follow(
    spec: EnvSpec,
    services: readonly string[],
    onLine: (line: ServiceLogLine) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const paths = new ProjectPaths(spec.root)
    await Promise.all(services.map((name) => followLog(paths.serviceLog(name), name, onLine, signal)))
  }

  activity(root: string): RuntimeActivity {
    const supervisor = liveSupervisor(root)
    return supervisor
      ? { active: true, pid: supervisor.pid, detail: `supervisor pid ${supervisor.pid}` }
      : { active: false }
  }

  /** The socket of a live supervisor, starting one (after recovering from a dead one) if needed. */
  private async ensureSupervisor(spec: EnvSpec): Promise<string> {
    const paths = new ProjectPaths(spec.root)
    mkdirSync(paths.logs, { recursive: true })
    const files = supervisorFiles(spec.root)
    return withFileLock(files.lock, async () => {
      const live = liveSupervisor(spec.root)
      const pulls = needsPulls(spec)
      if (live && (await canConnect(live.socket))) {
        const lacksCaCerts = pulls && live.withoutExtraCaCerts === true
        if (live.build === supervisorBuild() && !lacksCaCerts) {
          dropStandbySupervisor()
          return live.socket
        }
        // devenv was rebuilt or upgraded while the stack ran: the old supervisor hands over cleanly.
        notice(
          lacksCaCerts
            ? 'the running supervisor started without NODE_EXTRA_CA_CERTS, which pulling images may need; restarting the stack with one that has them'
            : 'the running supervisor belongs to another build of devenv; restarting the stack with this one',
        )
        await this.request(live.socket, { op: 'shutdown' }, () => {})
        await waitGone(live.pid, live.pidStart)
      }
      const recovered = await recoverOrphans(spec.root)
      if (recovered.length)
        notice(
          `the supervisor had died; stopped the services it left running (${recovered.join(', ')}) to start them cleanly`,
        )
      writeJsonAtomic(`${paths.dir}/spec.json`, spec, 0o600)
      // Only image pulls make TLS connections out of the machine: without images, no start pays for NODE_EXTRA_CA_CERTS.
      const env = pulls ? process.env : carryingExtraCaCerts(process.env)
      const standby = pulls ? dropStandbySupervisor() : takeStandbySupervisor(supervisorMain())
      let child: ChildProcess
      if (standby) {
        child = standby
        const orders = { root: spec.root, preparationModule: this.options.preparationModule, log: files.log }
        commandStandby(child, { ...orders, env: env as Record<string, string> })
      } else {
        const log = openSync(files.log, 'a')
        child = spawn(process.execPath, [supervisorMain(), spec.root, this.options.preparationModule], {
          detached: true,
          stdio: ['ignore', log, log],
          cwd: spec.root,
          env,
        })
        child.unref()
      }
      const deadline = Date.now() + START_TIMEOUT_MS
      while (Date.now() < deadline) {
        const started = liveSupervisor(spec.root)
        if (started && (await canConnect(started.socket))) return started.socket
        if (child.exitCode !== null) break
        await sleep(START_POLL_MS)
      }
      throw new DevenvError('SUPERVISOR', 'the supervisor did not start', { hint: `See ${files.log}.` })
    })
  }

  private request(socketPath: string, body: RequestBody, onEvent: (event: ServiceEvent) => void): Promise<unknown> {
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      const socket = net.connect(socketPath)
      let settled = false
      const reader = new MessageReader<Reply>((reply) => {
        if (reply.id !== id) return
        if (reply.type === 'event') onEvent(reply.event)
        else {
          settled = true
          socket.end()
          if (reply.type === 'result') resolve(reply.result)
          else
            reject(
              new DevenvError(reply.error.code as DevenvError['code'], reply.error.message, {
                ...(reply.error.hint ? { hint: reply.error.hint } : {}),
                details: reply.error.details ?? [],
              }),
            )
        }
      })
      socket.on('connect', () => socket.write(encode({ ...body, id } as Request)))
      socket.on('data', (chunk) => reader.push(chunk))
      socket.on('error', (error) => {
        if (!settled) reject(new DevenvError('SUPERVISOR', `lost the supervisor: ${error.message}`))
      })
      socket.on('close', () => {
        if (!settled)
          reject(
            new DevenvError('SUPERVISOR', 'the supervisor closed the connection before answering', {
              hint: 'See .devenv/logs/supervisor.log.',
            }),
          )
      })
    })
  }
}

/** The project's state as the supervisor last wrote it (or as it said it), corrected for processes that are gone. */
export function inspectProject(spec: EnvSpec, recorded?: ProjectState): ProjectState {
  const state = recorded ?? readProjectState(spec.root)
  const supervisor = liveSupervisor(spec.root)
  // A service never started still has its address, once the project has one (hosts apply, a first up).
  const addresses = readAddresses(spec.root)
  const services: Record<string, ServiceState> = {}
  for (const [name, service] of Object.entries(spec.services)) {
    const known = state?.services[name]
    if (!known) {
      services[name] = {
        name,
        box: service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name,
        kind: service.kind,
        state: 'stopped',
        health: 'none',
        address: addresses[name] ?? '',
        hostnames: service.hostnames,
        ports: [],
        restarts: 0,
      }
      continue
    }
    const alive = known.pid !== undefined && isSameProcess(known.pid, known.pidStart)
    if (!supervisor && known.state !== 'stopped' && known.state !== 'failed' && known.state !== 'exited') {
      services[name] = alive
        ? { ...known, notes: [...(known.notes ?? []), 'its supervisor is gone: `devenv up` restarts it cleanly'] }
        : { ...known, state: 'exited', health: 'none', pid: undefined, message: 'the supervisor is gone' }
    } else services[name] = known
  }
  return {
    project: spec.name,
    root: spec.root,
    envfile: spec.file,
    ...(supervisor ? { supervisor: { pid: supervisor.pid, startedAt: supervisor.startedAt } } : {}),
    services,
    updatedAt: state?.updatedAt ?? new Date().toISOString(),
  }
}

function canConnect(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath)
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

/** The shutdown reply comes before the process is gone; wait so nothing is left behind. */
async function waitGone(pid: number, pidStart: string | undefined): Promise<void> {
  const deadline = Date.now() + 5000
  // It exits a few ms after its reply: polled finely, as `down` is waited on by the user.
  while (isSameProcess(pid, pidStart) && Date.now() < deadline) await sleep(2)
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
