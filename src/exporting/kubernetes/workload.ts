import path from 'node:path'
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1'
import type {
  IContainer,
  IPersistentVolumeClaim,
  IPersistentVolumeClaimSpec,
  IProbe,
  IVolume,
  IVolumeMount,
} from 'kubernetes-models/v1'
import { describeBox, type EnvSpec, type HealthSpec, type ServiceSpec } from '../../envfile/index.js'
import type { Container } from '../container.js'
import type { ServiceGroup } from '../../spec/index.js'
import { containerEnv } from './env.js'
import { mountedFiles } from './files.js'
import { labels, seconds, selector, type KubernetesObject } from './objects.js'

export interface WorkloadOptions {
  /** The image init containers wait with (it needs sh and nc). */
  waitImage: string
  /** Size each PersistentVolumeClaim asks for. */
  storage: string
  /** Extra pod labels (a balancer's backends carry its label). */
  podLabels: Record<string, string>
  rewrite: (text: string) => string
}

/** The Deployment (StatefulSet for a box that keeps state) of one service, and what it mounts. */
export function workload(
  spec: EnvSpec,
  group: ServiceGroup,
  container: Container,
  options: WorkloadOptions,
  notes: string[],
): KubernetesObject[] {
  const { service } = group
  const stateful = describeBox(service.kind).stateful
  const objects: KubernetesObject[] = []
  const volumes: IVolume[] = []
  const mounts: IVolumeMount[] = []
  const claims: IPersistentVolumeClaim[] = []
  container.mounts.forEach((mount, index) => {
    if (!path.isAbsolute(mount.source)) {
      const claim = persistentClaim(spec.name, service.name, mount.source, options.storage)
      mounts.push({ name: mount.source, mountPath: mount.target, ...(mount.readonly ? { readOnly: true } : {}) })
      if (stateful) claims.push(claim)
      else {
        objects.push(claim)
        volumes.push({ name: mount.source, persistentVolumeClaim: { claimName: mount.source } })
        if (group.replicas > 1)
          notes.push(
            `${service.name}: its ${group.replicas} replicas share the claim ${mount.source} (ReadWriteOnce: one node)`,
          )
      }
      return
    }
    const files = mountedFiles(spec.name, service.name, mount, index, notes)
    if (files.configMap) objects.push(files.configMap)
    volumes.push(files.volume)
    mounts.push(files.mount)
  })

  const { env, secret } = containerEnv(
    spec.name,
    service.name,
    Object.fromEntries(Object.entries(container.env).map(([key, value]) => [key, options.rewrite(value)])),
  )
  if (secret) objects.push(secret)
  const main: IContainer = {
    name: service.name,
    image: container.image,
    // Images devenv builds are on the node that built them, not in a registry.
    imagePullPolicy: 'IfNotPresent',
    ...(container.command ? { command: container.command.map(options.rewrite) } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(container.workdir !== undefined ? { workingDir: container.workdir } : {}),
    ...(service.ports.length > 0
      ? { ports: service.ports.map((port) => ({ name: `port-${port}`, containerPort: port })) }
      : {}),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
    ...(service.health ? { readinessProbe: readinessProbe(service.health, service.ports) } : {}),
    ...(runAs(container.user, service, notes) ?? {}),
  }
  const initContainers = waitFor(spec, service, options.waitImage, notes)
  // on-failure and always both bring a crashed service back; only `no` is lost.
  if (service.restart.policy === 'no')
    notes.push(`${service.name}: restart: no becomes always (a Deployment's pods always restart)`)

  const podLabels = { ...labels(spec.name, service.name), ...options.podLabels }
  const template = {
    metadata: { labels: podLabels },
    spec: {
      ...(initContainers.length > 0 ? { initContainers } : {}),
      containers: [main],
      ...(volumes.length > 0 ? { volumes } : {}),
      terminationGracePeriodSeconds: seconds(service.stopTimeoutMs, 0),
    },
  }
  const metadata = { name: service.name, labels: labels(spec.name, service.name) }
  const matchLabels = selector(spec.name, service.name)
  if (stateful) {
    const set: IStatefulSet = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata,
      spec: {
        serviceName: service.name,
        replicas: group.replicas,
        selector: { matchLabels },
        template,
        ...(claims.length > 0
          ? {
              volumeClaimTemplates: claims.map((claim) => ({
                metadata: { name: claim.metadata!.name! },
                spec: claim.spec!,
              })),
            }
          : {}),
      },
    }
    return [...objects, set]
  }
  const deployment: IDeployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: { replicas: group.replicas, selector: { matchLabels }, template },
  }
  return [...objects, deployment]
}

function persistentClaim(project: string, service: string, name: string, storage: string): IPersistentVolumeClaim {
  const spec: IPersistentVolumeClaimSpec = { accessModes: ['ReadWriteOnce'], resources: { requests: { storage } } }
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, labels: labels(project, service) }, spec }
}

function readinessProbe(health: HealthSpec, ports: readonly number[]): IProbe {
  const timing = {
    periodSeconds: seconds(health.intervalMs),
    timeoutSeconds: seconds(health.timeoutMs),
    failureThreshold: Math.max(1, health.retries),
    initialDelaySeconds: seconds(health.startPeriodMs, 0),
  }
  const check = health.check
  if (check.kind === 'http') return { httpGet: { path: check.path, port: check.port }, ...timing }
  if (check.kind === 'command') return { exec: { command: ['/bin/sh', '-c', check.command] }, ...timing }
  const port = check.kind === 'tcp' ? check.port : ports[0]
  // A box's own probe (postgres: accepts connections) is its port answering, seen from outside.
  return port !== undefined ? { tcpSocket: { port }, ...timing } : { exec: { command: ['true'] }, ...timing }
}

/**
 * One init container per dependency, waiting until its Service answers. A Service only routes
 * to ready pods, so "answers" means "started and healthy" (kompose drops depends_on: #1513).
 */
function waitFor(spec: EnvSpec, service: ServiceSpec, image: string, notes: string[]): IContainer[] {
  return service.dependsOn.flatMap((dependency): IContainer[] => {
    const target = Object.values(spec.services).find(
      (candidate) => (candidate.replica?.of ?? candidate.name) === dependency.service,
    )
    const port = target?.ports[0]
    if (dependency.condition === 'completed' || port === undefined) {
      notes.push(
        `${service.name}: does not wait for ${dependency.service} (${dependency.condition === 'completed' ? 'Kubernetes has no "completed" condition between pods' : 'it has no port to wait on'})`,
      )
      return []
    }
    const check = `nc -z -w 1 ${dependency.service} ${port} 2>/dev/null || nc -w 1 ${dependency.service} ${port} </dev/null >/dev/null 2>&1`
    return [
      {
        name: `wait-for-${dependency.service}`.slice(0, 63),
        image,
        command: ['sh', '-c', `until ${check}; do echo "waiting for ${dependency.service}:${port}"; sleep 1; done`],
      },
    ]
  })
}

function runAs(
  user: string | undefined,
  service: ServiceSpec,
  notes: string[],
): Pick<IContainer, 'securityContext'> | undefined {
  if (user === undefined) return undefined
  const [uid, gid] = user.split(':')
  if (uid !== undefined && /^\d+$/.test(uid))
    return {
      securityContext: { runAsUser: Number(uid), ...(gid && /^\d+$/.test(gid) ? { runAsGroup: Number(gid) } : {}) },
    }
  notes.push(`${service.name}: runs as user "${user}" by name, which Kubernetes cannot say (runAsUser takes a number)`)
  return undefined
}
