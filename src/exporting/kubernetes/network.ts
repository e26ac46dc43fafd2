import type { IService } from 'kubernetes-models/v1'
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1'
import type { EnvSpec } from '../../envfile/index.js'
import type { ServiceGroup } from '../../spec/index.js'
import { backendLabel, labels, selector } from './objects.js'

/** A Service per service with ports: its name is what the others reach it by, in the cluster. */
export function serviceFor(spec: EnvSpec, group: ServiceGroup): IService | undefined {
  const { service } = group
  if (service.ports.length === 0) return undefined
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, labels: labels(spec.name, service.name) },
    spec: {
      selector: selector(spec.name, service.name),
      ports: service.ports.map((port) => ({ name: `port-${port}`, port, targetPort: port })),
    },
  }
}

/**
 * A balancer is what a cluster already has: a Service named as the lb over every backend's pods
 * (so the in-cluster name still balances), and an Ingress for its hostnames. TLS is the Ingress
 * controller's, with a certificate the cluster holds.
 */
export function balancer(
  spec: EnvSpec,
  group: ServiceGroup,
  groups: ServiceGroup[],
  notes: string[],
): Array<IService | IIngress> {
  const { service } = group
  const lb = service.lb!
  const backends = groups.filter((candidate) => lb.backends.includes(candidate.name))
  const backendPorts = [...new Set(backends.map((backend) => lb.backendPort ?? backend.service.ports[0]))]
  const targetPort = backendPorts[0]
  if (targetPort === undefined) {
    notes.push(`${service.name}: its backends have no port; no Service or Ingress is written for it`)
    return []
  }
  if (backendPorts.length > 1)
    notes.push(
      `${service.name}: its backends listen on different ports (${backendPorts.join(', ')}); the Service forwards to ${targetPort}`,
    )
  if (lb.strategy !== 'round-robin')
    notes.push(
      `${service.name}: strategy ${lb.strategy} is the Ingress controller's to choose; the Service balances at random`,
    )
  const serviceObject: IService = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: service.name, labels: labels(spec.name, service.name) },
    spec: {
      selector: { [backendLabel(service.name)]: 'true', 'app.kubernetes.io/part-of': spec.name },
      ports: [{ name: 'http', port: lb.httpPort, targetPort }],
      ...(lb.stickyCookie ? { sessionAffinity: 'ClientIP' as const } : {}),
    },
  }
  const hosts = service.hostnames
  if (hosts.length === 0) return [serviceObject]
  const ingress: IIngress = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name: service.name,
      labels: labels(spec.name, service.name),
      ...(lb.stickyCookie
        ? {
            annotations: {
              'nginx.ingress.kubernetes.io/affinity': 'cookie',
              'nginx.ingress.kubernetes.io/session-cookie-name': lb.stickyCookie,
            },
          }
        : {}),
    },
    spec: {
      ...(lb.httpsPort !== undefined ? { tls: [{ hosts, secretName: `${service.name}-tls` }] } : {}),
      rules: hosts.map((host) => ({
        host,
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix' as const,
              backend: { service: { name: service.name, port: { number: lb.httpPort } } },
            },
          ],
        },
      })),
    },
  }
  if (lb.httpsPort !== undefined)
    notes.push(
      `${service.name}: HTTPS needs the certificate in the Secret ${service.name}-tls (kubectl create secret tls ${service.name}-tls --cert=… --key=…)`,
    )
  return [serviceObject, ingress]
}
