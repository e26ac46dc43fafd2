import { existsSync } from 'node:fs'
import type Docker from 'dockerode'
import { DevenvError } from '../../errors.js'

/** Where an engine may answer, in the order tried when DOCKER_HOST does not say. */
function candidateSockets(): string[] {
  const runtimeDir = process.env.XDG_RUNTIME_DIR
  return [
    '/var/run/docker.sock',
    ...(runtimeDir ? [`${runtimeDir}/docker.sock`, `${runtimeDir}/podman/podman.sock`] : []),
    '/run/podman/podman.sock',
  ]
}

function describe(options: Docker.DockerOptions): string {
  return options.socketPath ? `unix://${options.socketPath}` : `${options.host ?? ''}:${options.port ?? ''}`
}

/** The engine's address: DOCKER_HOST as the docker CLI reads it, else the first socket that exists. */
export function engineAddress(): { options: Docker.DockerOptions; text: string } {
  const host = process.env.DOCKER_HOST
  if (host) {
    if (host.startsWith('unix://')) return { options: { socketPath: host.slice('unix://'.length) }, text: host }
    const url = new URL(host.replace(/^tcp:/, 'http:'))
    return { options: { host: url.hostname, port: Number(url.port || 2375), protocol: 'http' }, text: host }
  }
  const socketPath = candidateSockets().find((candidate) => existsSync(candidate)) ?? '/var/run/docker.sock'
  return { options: { socketPath }, text: `unix://${socketPath}` }
}

const connections = new Map<string, Promise<Docker>>()

/**
 * A client for the engine, checked once per process with a ping: when nothing answers, one line
 * says so and how to start one, instead of a socket error halfway through `up`.
 */
export function connectEngine(): Promise<Docker> {
  const { options, text } = engineAddress()
  const key = describe(options)
  let connection = connections.get(key)
  if (!connection) {
    connection = import('dockerode').then(({ default: Engine }) => ping(new Engine(options), text))
    connections.set(key, connection)
    connection.catch(() => connections.delete(key))
  }
  return connection
}

async function ping(docker: Docker, text: string): Promise<Docker> {
  try {
    await Promise.race([
      docker.ping(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 5 s')), 5000).unref()),
    ])
    return docker
  } catch (error) {
    throw new DevenvError('RUNTIME', `no Docker engine answers at ${text} (${(error as Error).message})`, {
      hint: 'Start one (`sudo systemctl start docker`, or `sudo dockerd &`; for Podman `systemctl --user start podman.socket`), or point DOCKER_HOST at it, or remove `runtime: docker` to use the bundled runtime.',
    })
  }
}

/** The docker CLI for what needs a terminal (`exec -it`, `shell`), with the same engine address. */
export function engineCliEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value
  env.DOCKER_HOST = engineAddress().text
  return env
}
