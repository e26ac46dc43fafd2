import { execa } from 'execa'
import { DevenvError } from '../../errors.js'

export interface DockerTarget {
  /** A docker context (`docker context ls`); default: the current one. */
  context?: string
}

/** Runs the docker CLI against the target's engine; a failure is an error naming the command. */
export async function docker(target: DockerTarget, args: string[], input?: string): Promise<string> {
  const argv = [...(target.context ? ['--context', target.context] : []), ...args]
  const result = await execa('docker', argv, { reject: false, ...(input !== undefined ? { input } : {}) }).catch(
    (error: Error) => ({ exitCode: -1, stdout: '', stderr: error.message, failed: true }),
  )
  if (result.exitCode === 0) return result.stdout
  const missing = /ENOENT/.test(result.stderr)
  throw new DevenvError(
    'RUNTIME',
    missing
      ? 'the docker command is not installed'
      : `docker ${args.slice(0, 2).join(' ')} failed: ${result.stderr.trim().split('\n').slice(-3).join(' ') || `exit ${result.exitCode}`}`,
    missing ? { hint: 'Install Docker (Debian: apt-get install docker.io).' } : {},
  )
}

/** Refuses an engine that is not a Swarm manager, saying how to make this machine one. */
export async function checkSwarmManager(target: DockerTarget): Promise<void> {
  const [state, control] = (
    await docker(target, ['info', '--format', '{{.Swarm.LocalNodeState}} {{.Swarm.ControlAvailable}}'])
  )
    .trim()
    .split(' ')
  if (state === 'active' && control === 'true') return
  throw new DevenvError(
    'RUNTIME',
    state === 'active'
      ? `the Docker engine${target.context ? ` of context ${target.context}` : ''} is a Swarm worker, not a manager: stacks are deployed through a manager`
      : `the Docker engine${target.context ? ` of context ${target.context}` : ''} is not part of a Swarm (state: ${state ?? 'unknown'})`,
    {
      hint:
        state === 'active'
          ? 'Use --context with a manager node, or promote this node (docker node promote).'
          : 'Make this machine a single-node swarm with `docker swarm init --advertise-addr 127.0.0.1`, or use --context with a manager.',
    },
  )
}

/** Polls `check` until it returns a value, or fails with `timeout()`'s error after `ms`. */
export async function waitUntil<T>(
  ms: number,
  check: () => Promise<T | undefined>,
  timeout: () => Promise<Error>,
): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw await timeout()
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}
