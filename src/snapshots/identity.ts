import { readFileSync } from 'node:fs'
import path from 'node:path'
import { serverMajorVersion } from '../boxes/postgres/binaries.js'
import { clusterDir } from '../boxes/postgres/layout.js'
import type { ServiceSpec } from '../envfile/model.js'

export interface BoxIdentity {
  /** As the envfile writes it: `postgres`, `mydb:v2`. */
  box: string
  kind: string
  /** What decides whether saved state can be read back: for postgres the cluster's major version. */
  boxVersion: string
}

/**
 * The box a service's state belongs to. For postgres the version is read from the cluster itself
 * (PG_VERSION) when it exists, since that is what a restored folder must match; the other boxes
 * keep state in devenv's own formats, version 1.
 */
export function serviceBoxIdentity(service: ServiceSpec, dataDir: string): BoxIdentity {
  const box = service.box.tag ? `${service.box.name}:${service.box.tag}` : service.box.name
  return { box, kind: service.kind, boxVersion: boxVersionOf(service, dataDir) }
}

function boxVersionOf(service: ServiceSpec, dataDir: string): string {
  if (service.kind !== 'postgres') return '1'
  try {
    return readFileSync(path.join(clusterDir(dataDir), 'PG_VERSION'), 'utf8').trim()
  } catch {
    // No cluster yet: it will be made by the bundled server.
  }
  try {
    return String(serverMajorVersion())
  } catch {
    return service.postgres?.version?.split('.')[0] ?? 'unknown'
  }
}
