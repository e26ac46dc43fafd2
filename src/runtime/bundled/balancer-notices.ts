import path from 'node:path'
import { CONTROL_SIGNAL, readAck, writeControl } from '../../boxes/lb/index.js'
import { ProjectPaths } from '../../state/index.js'
import type { SupervisedService } from './service.js'

/** Longest the supervisor waits for a balancer to take a notice in before it goes on regardless. */
const ACK_TIMEOUT_MS = 1000
const ACK_POLL_MS = 5

/**
 * Tells the project's running load balancers at once when one of their backends goes down or is
 * ready again (the balancer's own checks would take seconds to notice): a backend about to be
 * stopped for a restart is taken out of rotation first, and is taken back the moment it is ready.
 */
export class BalancerNotices {
  private readonly readiness = new Map<string, boolean>()
  private readonly seq = new Map<string, number>()

  constructor(
    private readonly root: string,
    private readonly services: () => Iterable<SupervisedService>,
  ) {}

  /** Resolves once every balancer of `backend` has applied the notice (or did not within a second). */
  async announce(backend: string, ready: boolean): Promise<void> {
    this.readiness.set(backend, ready)
    const balancers = [...this.services()].filter(
      (service) => service.spec.lb?.backends.includes(backend) && service.ready && service.state.pid,
    )
    await Promise.all(balancers.map((balancer) => this.tell(balancer)))
  }

  private async tell(balancer: SupervisedService): Promise<void> {
    const settings = balancer.spec.lb!
    const runDir = path.join(new ProjectPaths(this.root).serviceDir(balancer.spec.name), 'run')
    const seq = (this.seq.get(balancer.spec.name) ?? Date.now()) + 1
    this.seq.set(balancer.spec.name, seq)
    const backends: Record<string, boolean> = {}
    for (const name of settings.backends) {
      const known = this.readiness.get(name)
      if (known !== undefined) backends[name] = known
    }
    try {
      writeControl(runDir, { seq, backends })
      process.kill(balancer.state.pid!, CONTROL_SIGNAL)
    } catch {
      return
    }
    const deadline = Date.now() + ACK_TIMEOUT_MS
    while (readAck(runDir) < seq && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, ACK_POLL_MS))
  }
}
