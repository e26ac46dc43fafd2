import type { Endpoint } from '../../boxes/index.js'
import { endpointOf, isActive, requireRunning } from '../service-view.js'
import type { EnvSpec } from '../../envfile/index.js'
import { ProjectPaths } from '../../state/index.js'
import type { ServiceState } from '../../state/index.js'
import type {
  ExecContext,
  LogQuery,
  Runtime,
  ServiceEvent,
  ServiceHandle,
  ServiceLogLine,
  UpResult,
} from '../runtime.js'
import { bundledExecContext } from './exec-context.js'
import { followLog, readServiceLog } from './log-reader.js'

/** A service of a project on the bundled runtime: what the supervisor last recorded, checked against the live processes. */
export class BundledServiceHandle implements ServiceHandle {
  constructor(
    private readonly runtime: Runtime,
    private readonly spec: EnvSpec,
    readonly name: string,
  ) {}

  async inspect(): Promise<ServiceState> {
    return (await this.runtime.inspect(this.spec)).services[this.name]!
  }

  async isRunning(): Promise<boolean> {
    const project = await this.runtime.inspect(this.spec)
    return (
      Boolean(project.supervisor) && project.services[this.name] !== undefined && isActive(project.services[this.name]!)
    )
  }

  async endpoint(): Promise<Endpoint> {
    return endpointOf(await this.running())
  }

  async endpointIfRunning(): Promise<Endpoint | undefined> {
    const state = await this.inspect()
    return isActive(state) ? endpointOf(state) : undefined
  }

  async execContext(): Promise<ExecContext> {
    return bundledExecContext(this.spec, this.name, await this.running())
  }

  async logs(query: LogQuery = {}): Promise<ServiceLogLine[]> {
    return readServiceLog(new ProjectPaths(this.spec.root).serviceLog(this.name), this.name, query)
  }

  follow(onLine: (line: ServiceLogLine) => void, signal: AbortSignal): Promise<void> {
    return followLog(new ProjectPaths(this.spec.root).serviceLog(this.name), this.name, onLine, signal)
  }

  start(onEvent: (event: ServiceEvent) => void = () => {}): Promise<UpResult> {
    return this.runtime.up(this.spec, { services: [this.name] }, onEvent)
  }

  async stop(): Promise<void> {
    await this.runtime.stop(this.spec, [this.name])
  }

  private async running(): Promise<ServiceState> {
    return requireRunning(await this.inspect(), this.name)
  }
}
