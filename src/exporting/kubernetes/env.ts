import type { IEnvVar, ISecret } from 'kubernetes-models/v1'
import { labels } from './objects.js'

/** Names that say they hold a secret, and URLs that carry a password (postgres://user:pass@host). */
const SECRET_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIALS?|_KEY)$/i
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^@\s]+@/i

export interface ContainerEnv {
  env: IEnvVar[]
  secret?: ISecret
}

/** The environment of a service's container: plain values inline, secrets from a Secret of its own. */
export function containerEnv(project: string, service: string, values: Record<string, string>): ContainerEnv {
  const secretName = `${service}-env`
  const secretData: Record<string, string> = {}
  const env: IEnvVar[] = Object.entries(values).map(([name, value]) => {
    if (!SECRET_NAME.test(name) && !URL_WITH_PASSWORD.test(value)) return { name, value }
    secretData[name] = value
    return { name, valueFrom: { secretKeyRef: { name: secretName, key: name } } }
  })
  if (Object.keys(secretData).length === 0) return { env }
  return {
    env,
    secret: {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName, labels: labels(project, service) },
      type: 'Opaque',
      stringData: secretData,
    },
  }
}
