import { stringify } from 'yaml'
import type { EnvSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { containerOf } from '../container.js'
import { serviceGroups } from '../../spec/index.js'
import type { BoxContainerPlanner } from '../plan.js'
import { hostnameRewriter } from './names.js'
import { balancer, serviceFor } from './network.js'
import { backendLabel, type KubernetesObject } from './objects.js'
import { kubernetesProblems } from './validate.js'
import { workload } from './workload.js'

export type { KubernetesObject } from './objects.js'
export { kubernetesProblems } from './validate.js'

export interface KubernetesOptions {
  /** The image init containers wait with (default busybox:1.36: it has sh and nc). */
  waitImage?: string
  /** What each PersistentVolumeClaim asks for (default 1Gi). */
  storage?: string
}

export interface KubernetesFile {
  /** File name in the output folder: ordered so `kubectl apply -f DIR` creates what others use first. */
  name: string
  object: KubernetesObject
  text: string
  /** Secrets are written 0600. */
  secret: boolean
}

export interface KubernetesResult {
  files: KubernetesFile[]
  images: Array<{ image: string; buildHint: string }>
  notes: string[]
}

const ORDER: Array<KubernetesObject['kind']> = [
  'Secret',
  'ConfigMap',
  'PersistentVolumeClaim',
  'Service',
  'StatefulSet',
  'Deployment',
  'Ingress',
]

/** `devenv export kubernetes`: the envfile as Kubernetes objects, each validated. */
export function exportKubernetes(
  spec: EnvSpec,
  planner: BoxContainerPlanner,
  options: KubernetesOptions = {},
): KubernetesResult {
  const notes: string[] = []
  const images = new Map<string, string>()
  const groups = serviceGroups(spec)
  const rewrite = hostnameRewriter(spec)
  const objects: KubernetesObject[] = []
  for (const group of groups) {
    if (group.service.lb) {
      objects.push(...balancer(spec, group, groups, notes))
      continue
    }
    const container = containerOf(spec, group.service, planner, notes)
    if (container.buildHint !== undefined) images.set(container.image, container.buildHint)
    const balancers = groups.filter((candidate) => candidate.service.lb?.backends.includes(group.name))
    const service = serviceFor(spec, group)
    if (service) objects.push(service)
    objects.push(
      ...workload(
        spec,
        group,
        container,
        {
          waitImage: options.waitImage ?? 'busybox:1.36',
          storage: options.storage ?? '1Gi',
          podLabels: Object.fromEntries(balancers.map((lb) => [backendLabel(lb.name), 'true'])),
          rewrite,
        },
        notes,
      ),
    )
    for (const publish of group.service.publish)
      notes.push(
        `${group.name}: publish ${publish.hostPort}:${publish.port} is not exported; reach it with kubectl port-forward service/${group.name} ${publish.hostPort}:${publish.port}`,
      )
  }
  const files = objects
    .map((object, index) => ({ object, index }))
    .sort((a, b) => ORDER.indexOf(a.object.kind) - ORDER.indexOf(b.object.kind) || a.index - b.index)
    .map(({ object }, position) => {
      const problems = kubernetesProblems(object)
      if (problems.length > 0)
        throw new DevenvError('EXPORT', `the ${object.kind} ${object.metadata?.name ?? ''} devenv made is not valid`, {
          details: problems,
          hint: 'This is a bug in devenv: please report it with the envfile.',
        })
      return {
        name: `${String(position + 1).padStart(2, '0')}-${object.kind.toLowerCase()}-${object.metadata?.name ?? 'unnamed'}.yaml`,
        object,
        text: stringify(object, { lineWidth: 0 }),
        secret: object.kind === 'Secret',
      }
    })
  return { files, images: [...images].map(([image, buildHint]) => ({ image, buildHint })), notes }
}
