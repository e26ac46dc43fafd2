import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1'
import type { IConfigMap, IPersistentVolumeClaim, ISecret, IService } from 'kubernetes-models/v1'
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1'

/** Every kind of object the export writes. */
export type KubernetesObject =
  IDeployment | IStatefulSet | IService | IConfigMap | ISecret | IPersistentVolumeClaim | IIngress

/** The labels every object of the project carries; `name` and `part-of` select a service's pods. */
export function labels(project: string, service: string): Record<string, string> {
  return {
    'app.kubernetes.io/name': service,
    'app.kubernetes.io/part-of': project,
    'app.kubernetes.io/managed-by': 'devenv',
  }
}

export function selector(project: string, service: string): Record<string, string> {
  return { 'app.kubernetes.io/name': service, 'app.kubernetes.io/part-of': project }
}

/** The label a balancer's Service selects its backends' pods by. */
export function backendLabel(balancer: string): string {
  return `devenv.dev/backend-of-${balancer}`
}

/** Whole seconds, at least `floor` (probes and grace periods count in seconds). */
export function seconds(ms: number, floor = 1): number {
  return Math.max(floor, Math.ceil(ms / 1000))
}
