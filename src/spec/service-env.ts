import type { ServiceSpec } from '../envfile/index.js'

export interface ServiceRuntimeInfo {
  project: string
  address: string
  /** The address the service listens on, when not its own (0.0.0.0 in a container of its own network). */
  listen?: string
  /** Declared port → bound port. */
  port(declared: number): number
  dataDir: string
}

/**
 * The environment a service runs with (and `devenv exec` uses): the caller's environment,
 * then HOST, PORT, DEVENV_*, then the declared env with ${HOST}, ${PORT} and ${DEVENV_*} filled in.
 */
export function serviceEnvironment(
  service: ServiceSpec,
  info: ServiceRuntimeInfo,
  base: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const firstPort = service.ports[0]
  const runtime: Record<string, string> = {
    HOST: info.listen ?? info.address,
    ...(firstPort !== undefined ? { PORT: String(info.port(firstPort)) } : {}),
    DEVENV_PROJECT: info.project,
    DEVENV_SERVICE: service.name,
    DEVENV_ADDRESS: info.address,
    DEVENV_DATA: info.dataDir,
    DEVENV_HOSTNAMES: service.hostnames.join(','),
  }
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(base)) if (value !== undefined) env[key] = value
  Object.assign(env, runtime)
  for (const [key, value] of Object.entries(service.env)) env[key] = fillRuntimeVariables(value, runtime)
  return env
}

/** Replaces ${HOST}, ${PORT} and ${DEVENV_*} (left alone when the envfile was loaded). */
export function fillRuntimeVariables(text: string, runtime: Record<string, string>): string {
  return text.replace(/\$\{(HOST|PORT|DEVENV_[A-Z0-9_]+)\}/g, (whole, name: string) => runtime[name] ?? whole)
}
