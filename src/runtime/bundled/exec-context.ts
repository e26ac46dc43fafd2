import { readFileSync } from 'node:fs'
import type { EnvSpec } from '../../envfile/index.js'
import { serviceEnvironment } from '../../spec/index.js'
import { ProjectPaths, readJson } from '../../state/index.js'
import path from 'node:path'
import { enterImage, imageExecFile, type ImageExecInfo } from './image-exec.js'
import type { ServiceState } from '../../state/index.js'
import type { ExecContext } from '../runtime.js'

/** The environment and folder a running service has, and the way into its mount namespace when it has one. */
export function bundledExecContext(spec: EnvSpec, name: string, state: ServiceState): ExecContext {
  const service = spec.services[name]!
  const env = serviceEnvironment(service, {
    project: spec.name,
    address: state.address,
    port: (declared) => state.ports.find((port) => port.port === declared)?.bound ?? declared,
    dataDir: new ProjectPaths(spec.root).serviceData(name),
  })
  if (service.image && state.pid) return imageExecContext(spec, name, state.pid)
  const inside = state.mounts === 'bind' && state.pid ? serviceProcessInside(state.pid) : undefined
  return {
    env,
    cwd: service.workdir,
    ...(inside ? { enter: ['nsenter', `--target=${inside}`, '--mount', '--root', '--wd', '--'] } : {}),
  }
}

/** An image service is entered in all its namespaces, as the image's user, with the image's environment. */
function imageExecContext(spec: EnvSpec, name: string, pid: number): ExecContext {
  const paths = new ProjectPaths(spec.root)
  const info = readJson<ImageExecInfo>(imageExecFile(path.join(paths.serviceDir(name), 'run')))
  const inside = serviceProcessInside(pid)
  return {
    env: info?.env ?? {},
    cwd: spec.root,
    ...(inside ? { enter: enterImage(String(inside), info) } : {}),
  }
}

/** The service's own process: the child that `unshare --fork` made in the new namespace. */
export function serviceProcessInside(unsharePid: number): number | undefined {
  try {
    const child = readFileSync(`/proc/${unsharePid}/task/${unsharePid}/children`, 'utf8').trim().split(/\s+/)[0]
    return child ? Number(child) : undefined
  } catch {
    return undefined
  }
}
