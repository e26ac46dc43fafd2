/** The docker provider: services as containers on a Docker or Podman engine. */
export { DockerRuntime } from './docker-runtime.js'
