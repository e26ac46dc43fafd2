import type { Endpoint } from '../../boxes/index.js'
import { endpointOf, isActive, requireRunning } from '../service-view.js'
import type { EnvSpec } from '../../envfile/index.js'
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
import { engineCliEnv } from './engine.js'
import { containerName } from './labels.js'

/** A service of a project on the docker provider: its container, as the engine describes it. */
export class DockerServiceHandle implements ServiceHandle {
  private readonly container: string

  constructor(
    private readonly runtime: Runtime,
    private readonly spec: EnvSpec,
    readonly name: string,
  ) {
    this.container = containerName(spec.name, spec.root, name)
  }

  async inspect(): Promise<ServiceState> {
    return (await this.runtime.inspect(this.spec)).services[this.name]!
  }

  async isRunning(): Promise<boolean> {
    return isActive(await this.inspect())
  }

  async endpoint(): Promise<Endpoint> {
    return endpointOf(await this.running())
  }

  async endpointIfRunning(): Promise<Endpoint | undefined> {
    const state = await this.inspect()
    return isActive(state) ? endpointOf(state) : undefined
  }

  /** `docker exec` needs a terminal for `shell` and `exec -it`: the CLI is the way in there. */
  async execContext(): Promise<ExecContext> {
    await this.running()
    const terminal = Boolean(process.stdin.isTTY && process.stdout.isTTY)
    return {
      env: engineCliEnv(),
      cwd: process.cwd(),
      enter: ['docker', 'exec', '-i', ...(terminal ? ['-t'] : []), this.container],
    }
  }

  logs(query: LogQuery = {}): Promise<ServiceLogLine[]> {
    return this.runtime.logs(this.spec, [this.name], query)
  }

  follow(onLine: (line: ServiceLogLine) => void, signal: AbortSignal): Promise<void> {
    return this.runtime.follow(this.spec, [this.name], onLine, signal)
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
