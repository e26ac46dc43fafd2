import { DevenvError } from '../errors.js'

/** A parsed image name: where it lives (registry host[:port]), which repository, and a tag or digest. */
export interface ImageReference {
  registry: string
  repository: string
  tag?: string
  digest?: string
}

const DOCKER_HUB = 'docker.io'
const TAG = /^[\w][\w.-]{0,127}$/
const DIGEST = /^sha256:[0-9a-f]{64}$/
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/

/**
 * Parses NAME[:TAG|@DIGEST] the way Docker does: a first component with a dot, a colon or
 * "localhost" names the registry; otherwise it is Docker Hub, where one-part names are library/.
 */
export function parseImageReference(given: string): ImageReference {
  const bad = (why: string): DevenvError =>
    new DevenvError('USAGE', `invalid image reference "${given}": ${why}`, {
      hint: 'Write NAME[:TAG] or NAME@sha256:DIGEST, e.g. busybox:1.36 or 127.0.0.1:5000/team/app:dev.',
    })
  let rest = given.trim()
  if (!rest) throw bad('it is empty')
  let digest: string | undefined
  const at = rest.indexOf('@')
  if (at !== -1) {
    digest = rest.slice(at + 1)
    rest = rest.slice(0, at)
    if (!DIGEST.test(digest)) throw bad('the digest is not sha256: and 64 hex digits')
  }
  let tag: string | undefined
  const lastSlash = rest.lastIndexOf('/')
  const colon = rest.lastIndexOf(':')
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1)
    rest = rest.slice(0, colon)
    if (!TAG.test(tag)) throw bad(`the tag "${tag}" is not valid`)
  }
  const parts = rest.split('/')
  let registry = DOCKER_HUB
  const first = parts[0] ?? ''
  if (parts.length > 1 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    registry = first
    parts.shift()
    if (!/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9a-fA-F:]+\](?::\d{1,5})?$/.test(registry))
      throw bad(`the registry "${registry}" is not a host[:port]`)
  }
  if (registry === DOCKER_HUB && parts.length === 1) parts.unshift('library')
  if (!parts.length || parts.some((part) => !COMPONENT.test(part)))
    throw bad('a repository name is lower-case letters, digits and . _ - separated by /')
  if (!tag && !digest) tag = 'latest'
  return { registry, repository: parts.join('/'), ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) }
}

/** The canonical text of a reference: registry/repository[:tag][@digest]. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`
}

/** Docker Hub's API is not at docker.io. */
export function registryEndpointHost(registry: string): string {
  return registry === DOCKER_HUB ? 'registry-1.docker.io' : registry
}

/** A registry on a loopback address is spoken to over plain HTTP, as Docker does for localhost registries. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, '').replace(/^\[|\]$/g, '')
  return host === 'localhost' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === '::1'
}
