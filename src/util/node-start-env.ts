/**
 * Node reads and parses the file NODE_EXTRA_CA_CERTS names as it starts, before any script runs,
 * and Node 20 cannot defer it: for a distribution's bundle of ~140 certificates that is ~50 ms of
 * CPU per process (`node -e 0`: 75 → 25 ms here). devenv's own Node programs that never open a TLS
 * connection out of the machine (the supervisor of a stack without images, the box programs, the
 * helpers) start without it. The services' environment is the user's, and keeps it.
 */
const EXTRA_CA_CERTS = 'NODE_EXTRA_CA_CERTS'

/** Where the value travels while its process runs without it, to be handed on to the services. */
const CARRIED = 'DEVENV_NODE_EXTRA_CA_CERTS'

/** `env` for a devenv program that makes no TLS connections out: without NODE_EXTRA_CA_CERTS. */
export function withoutExtraCaCerts<Env extends NodeJS.ProcessEnv | Record<string, string>>(env: Env): Env {
  if (env[EXTRA_CA_CERTS] === undefined) return env
  const { [EXTRA_CA_CERTS]: _dropped, ...rest } = env
  return rest as Env
}

/** `env` without NODE_EXTRA_CA_CERTS, its value carried for `restoreExtraCaCerts` in the child. */
export function carryingExtraCaCerts(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const value = env[EXTRA_CA_CERTS]
  if (value === undefined) return env
  return { ...withoutExtraCaCerts(env), [CARRIED]: value }
}

/**
 * In a process started with `carryingExtraCaCerts`: puts its environment back as the user had it
 * (for the services it starts) and says whether the process itself started without the certificates.
 */
export function restoreExtraCaCerts(env: NodeJS.ProcessEnv = process.env): boolean {
  const value = env[CARRIED]
  if (value === undefined) return false
  env[EXTRA_CA_CERTS] = value
  delete env[CARRIED]
  return true
}
