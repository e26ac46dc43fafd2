/** The docker provider: services as containers on a Docker or Podman engine. */
export { DockerRuntime } from './docker-runtime.js'
export { boxContainer, type BoxContainer } from './box-container.js'
export { ensureBoxImage } from './box-image.js'
export { connectEngine } from './engine.js'
