import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Deployment } from 'kubernetes-models/apps/v1'
import { parse } from 'yaml'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportKubernetes, kubernetesProblems, type KubernetesObject } from '../../src/exporting/index.js'
import { devenv } from '../cli/run-cli.js'
import { copyOf, FIXED_PLANNER, loadProject, removeFolder } from './helpers.js'

type Kind = KubernetesObject['kind']
type Of<K extends Kind> = Extract<KubernetesObject, { kind: K }>

/** The exported objects, read back from the text written (as kubectl would read it), by kind and name. */
class Exported {
  constructor(readonly all: Map<string, KubernetesObject>) {}
  get<K extends Kind>(kind: K, name: string): Of<K> {
    const object = this.all.get(`${kind}/${name}`)
    if (!object) throw new Error(`no ${kind} ${name} among ${[...this.all.keys()].join(', ')}`)
    return object as Of<K>
  }
  pod(kind: 'Deployment' | 'StatefulSet', name: string) {
    return this.get(kind, name).spec!.template.spec!
  }
}

const folders: string[] = []
afterAll(() => folders.forEach(removeFolder))

function exported(relative: string, edit?: (text: string) => string): Exported {
  const folder = copyOf(relative, 'k8s')
  folders.push(folder)
  if (edit) {
    const file = path.join(folder, 'devenv.yaml')
    writeFileSync(file, edit(readFileSync(file, 'utf8')))
  }
  const result = exportKubernetes(loadProject(folder, { GATE_PORT: '18080' }), FIXED_PLANNER)
  return new Exported(
    new Map(
      result.files.map((file) => [
        `${file.object.kind}/${file.object.metadata!.name!}`,
        parse(file.text) as KubernetesObject,
      ]),
    ),
  )
}

describe('export kubernetes of the webapp template (boxes planned by a fixed planner)', () => {
  let objects: Exported
  beforeAll(() => {
    objects = exported('templates/webapp')
  })

  it('every object passes kubernetes-models validation and has no unknown field', () => {
    expect(objects.all.size).toBeGreaterThan(10)
    for (const [name, object] of objects.all) expect(kubernetesProblems(object), name).toEqual([])
  })

  it('Deployments for the app servers, StatefulSets for the boxes that keep state, a Service for each with ports', () => {
    const kinds = [...objects.all.keys()].filter((key) => /^(Deployment|StatefulSet|Service)\//.test(key)).sort()
    expect(kinds).toEqual([
      'Deployment/www1',
      'Deployment/www2',
      'Service/ftp',
      'Service/lb',
      'Service/mail',
      'Service/psql',
      'Service/www1',
      'Service/www2',
      'StatefulSet/ftp',
      'StatefulSet/mail',
      'StatefulSet/psql',
    ])
    const psql = objects.get('StatefulSet', 'psql')
    expect(psql.spec!.serviceName).toBe('psql')
    expect(psql.spec!.volumeClaimTemplates![0]).toMatchObject({
      metadata: { name: 'psql-data' },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    })
    expect(objects.get('Service', 'psql').spec!.ports).toEqual([{ name: 'port-5432', port: 5432, targetPort: 5432 }])
  })

  it('www1 waits for psql in an init container, is ready by its health check, and reaches psql by its Service name', () => {
    const pod = objects.pod('Deployment', 'www1')
    expect(pod.initContainers).toEqual([
      expect.objectContaining({
        name: 'wait-for-psql',
        command: ['sh', '-c', expect.stringContaining('nc -z -w 1 psql 5432')],
      }),
    ])
    const container = pod.containers[0]!
    expect(container.readinessProbe).toMatchObject({
      httpGet: { path: '/health', port: 8080 },
      periodSeconds: 10,
      failureThreshold: 3,
    })
    // DATABASE_URL holds a password: it comes from the Secret, with psql.example.test rewritten to psql.
    expect(container.env).toContainEqual({
      name: 'DATABASE_URL',
      valueFrom: { secretKeyRef: { name: 'www1-env', key: 'DATABASE_URL' } },
    })
    expect(objects.get('Secret', 'www1-env').stringData!.DATABASE_URL).toBe('postgres://skel:skel@psql:5432/skel')
    expect(container.env).toContainEqual({ name: 'BOX', value: 'node' })
  })

  it('seeds and mounted files are ConfigMaps, passwords a Secret', () => {
    const seeds = [...objects.all.values()].filter(
      (object) => object.kind === 'ConfigMap' && object.metadata!.labels!['app.kubernetes.io/name'] === 'psql',
    ) as Array<Of<'ConfigMap'>>
    expect(seeds.map((seed) => Object.values(seed.data!)[0])).toEqual([
      readFileSync(path.join(folders[0]!, 'db', 'schema.sql'), 'utf8'),
      readFileSync(path.join(folders[0]!, 'db', 'data.sql'), 'utf8'),
    ])
    const app = objects.get('ConfigMap', 'www1-files-0')
    expect(Object.values(app.data!)).toEqual([readFileSync(path.join(folders[0]!, 'app', 'server.cjs'), 'utf8')])
    expect(objects.get('Secret', 'psql-env').stringData).toEqual({ POSTGRES_PASSWORD: 'skel' })
    const psqlEnv = objects.pod('StatefulSet', 'psql').containers[0]!.env
    expect(psqlEnv).toContainEqual({
      name: 'POSTGRES_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'psql-env', key: 'POSTGRES_PASSWORD' } },
    })
  })

  it("the lb is a Service over both app servers' pods and an Ingress for its hostnames", () => {
    const lb = objects.get('Service', 'lb')
    const project = lb.metadata!.labels!['app.kubernetes.io/part-of']
    expect(lb.spec!.selector).toEqual({ 'devenv.dev/backend-of-lb': 'true', 'app.kubernetes.io/part-of': project })
    for (const name of ['www1', 'www2'])
      expect(objects.get('Deployment', name).spec!.template.metadata!.labels!['devenv.dev/backend-of-lb']).toBe('true')
    expect(objects.get('Deployment', 'www1').spec!.selector.matchLabels).toEqual({
      'app.kubernetes.io/name': 'www1',
      'app.kubernetes.io/part-of': project,
    })
    const ingress = objects.get('Ingress', 'lb').spec!
    expect(ingress.rules!.map((rule) => rule.host)).toEqual(['www.example.test', 'example.test', 'lb.example.test'])
    expect(ingress.rules![0]!.http!.paths[0]!.backend).toEqual({ service: { name: 'lb', port: { number: 80 } } })
    expect(ingress.tls).toEqual([
      { hosts: ['www.example.test', 'example.test', 'lb.example.test'], secretName: 'lb-tls' },
    ])
  })
})

describe('export kubernetes with replicas', () => {
  it('replicas: 3 on app is one Deployment of 3 behind one Service, balanced by the lb', () => {
    const objects = exported('templates/webapp', (text) =>
      text
        .replace('backends: [www1, www2]', 'backends: [app]')
        .replace(/ {2}www1: &www\n/, '  app:\n    replicas: 3\n')
        .replace(/ {4}publish: \["81:8080"\].*\n/, '')
        .replace(/ {2}www2:\n {4}<<: \*www\n {4}publish: \["82:8080"\]\n/, ''),
    )
    const app = objects.get('Deployment', 'app').spec!
    expect(app.replicas).toBe(3)
    expect(app.template.metadata!.labels!['devenv.dev/backend-of-lb']).toBe('true')
    expect([...objects.all.keys()].filter((key) => key.startsWith('Deployment/'))).toEqual(['Deployment/app'])
    expect(objects.get('Service', 'app').spec!.selector).toMatchObject({ 'app.kubernetes.io/name': 'app' })
    for (const [name, object] of objects.all) expect(kubernetesProblems(object), name).toEqual([])
  })
})

describe('the unknown-field check', () => {
  // Made wrong on purpose: the types would refuse them, so they are built untyped.
  const deployment = (container: Record<string, unknown>): KubernetesObject =>
    ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'www' },
      spec: {
        selector: { matchLabels: { app: 'www' } },
        template: { metadata: { labels: { app: 'www' } }, spec: { containers: [container] } },
      },
    }) as unknown as KubernetesObject

  it("rejects a misspelt field that kubernetes-models' validation lets through", () => {
    const misspelt = deployment({ name: 'www', image: 'www:1', readinessprobe: { tcpSocket: { port: 80 } } })
    expect(() => new Deployment(misspelt as never).validate()).not.toThrow()
    expect(kubernetesProblems(misspelt)).toEqual(['.spec.template.spec.containers[0].readinessprobe: unknown field'])
  })

  it('passes maps of any key (labels, ConfigMap data) and reports wrong types by the schema', () => {
    expect(kubernetesProblems(deployment({ name: 'www', image: 'www:1', env: [{ name: 'A', value: 'b' }] }))).toEqual(
      [],
    )
    const config: KubernetesObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'seeds', labels: { 'example.test/any-key': 'x' } },
      data: { '0-schema.sql': 'select 1;', 'any.key': '' },
    }
    expect(kubernetesProblems(config)).toEqual([])
    const wrong = kubernetesProblems(deployment({ name: 'www', image: 'www:1', ports: [{ containerPort: 'eighty' }] }))
    expect(wrong).toEqual([expect.stringContaining('containerPort must be integer')])
  })
})

describe('devenv export kubernetes -o DIR', () => {
  it('writes one file per object, Secrets 0600, and each file validates', async () => {
    const folder = copyOf('test/fixtures/export-images', 'k8s-cli')
    folders.push(folder)
    const result = await devenv(['export', 'kubernetes', '-o', 'k8s', '--json'], {
      cwd: folder,
      env: { GATE_PORT: '18080' },
    })
    expect(result.exitCode, result.stderr).toBe(0)
    const envelope = JSON.parse(result.stdout) as { result: { folder: string; files: string[]; notes: string[] } }
    const out = path.join(folder, 'k8s')
    expect(envelope.result.folder).toBe(out)
    expect(readdirSync(out).sort()).toEqual(envelope.result.files.map((file) => path.basename(file)).sort())
    expect(readdirSync(out)).toEqual([
      '01-secret-web-env.yaml',
      '02-service-web.yaml',
      '03-service-gate.yaml',
      '04-deployment-web.yaml',
      '05-deployment-gate.yaml',
    ])
    expect(statSync(path.join(out, '01-secret-web-env.yaml')).mode & 0o777).toBe(0o600)
    expect(statSync(path.join(out, '02-service-web.yaml')).mode & 0o777).toBe(0o644)
    for (const file of readdirSync(out)) {
      const object = parse(readFileSync(path.join(out, file), 'utf8')) as KubernetesObject
      expect(kubernetesProblems(object), file).toEqual([])
    }
    const web = parse(readFileSync(path.join(out, '04-deployment-web.yaml'), 'utf8')) as Of<'Deployment'>
    expect(web.spec!.replicas).toBe(2)
    expect(envelope.result.notes).toContain(
      'gate: publish 18080:8080 is not exported; reach it with kubectl port-forward service/gate 18080:8080',
    )
  })

  it("exports the webapp template's built-in boxes in devenv's box image, and every object validates", async () => {
    const folder = copyOf('templates/webapp', 'k8s-cli-boxes')
    folders.push(folder)
    const result = await devenv(['export', 'kubernetes', '-o', 'k8s', '--json'], { cwd: folder, timeout: 60_000 })
    expect(result.exitCode, result.stderr).toBe(0)
    const out = path.join(folder, 'k8s')
    const images = new Set<string>()
    for (const file of readdirSync(out)) {
      const object = parse(readFileSync(path.join(out, file), 'utf8')) as KubernetesObject
      expect(kubernetesProblems(object), file).toEqual([])
      if (object.kind === 'Deployment' || object.kind === 'StatefulSet') {
        const workload = object as Of<'Deployment'>
        for (const container of workload.spec!.template.spec!.containers) images.add(container.image!)
      }
    }
    expect(
      [...images].every((image) => /^devenv\/boxes:[0-9a-f]{16}$/.test(image)),
      [...images].join(' '),
    ).toBe(true)
  })
})
