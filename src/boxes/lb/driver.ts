import path from 'node:path'
import { fileURLToPath } from 'node:url'
import type { LbSettings, ServiceSpec } from '../../envfile/model.js'
import { DevenvError } from '../../errors.js'
import { writeJsonAtomic } from '../../state/atomic.js'
import { ProjectPaths } from '../../state/paths.js'
import type { BoxDriver, ServiceContext } from '../driver.js'
import { LB_DEFAULTS, type BackendConfig, type LbConfig } from './config.js'

const SERVER = fileURLToPath(new URL('./main.js', import.meta.url))

/**
 * The backends' own specs (their ports and health checks). A runtime that knows them passes
 * `peer`; otherwise the project's envfile is read again.
 */
type LbContext = ServiceContext & { peer?(service: string): ServiceSpec | undefined }

export function lbConfigFile(context: ServiceContext): string {
  return path.join(context.runDir, 'lb.json')
}

export const lbDriver: BoxDriver = {
  kind: 'lb',

  async prepare(context: LbContext): Promise<void> {
    writeJsonAtomic(lbConfigFile(context), await buildLbConfig(context))
  },

  launch(context: ServiceContext) {
    return {
      command: process.execPath,
      args: [SERVER],
      env: { ...context.env, DEVENV_BOX_CONFIG: lbConfigFile(context) },
      cwd: context.runDir,
    }
  },
}

export async function buildLbConfig(context: LbContext): Promise<LbConfig> {
  const { service } = context
  const settings = service.lb
  if (!settings) throw new DevenvError('BOX', `service ${service.name} has no load balancer settings`)
  const peers = await peerLookup(context)
  const config: LbConfig = {
    service: service.name,
    address: context.address,
    httpPort: context.port(settings.httpPort),
    strategy: settings.strategy,
    ...(settings.stickyCookie ? { stickyCookie: settings.stickyCookie } : {}),
    backends: settings.backends.map((name) => backendConfig(service, settings, name, context, peers)),
    ...LB_DEFAULTS,
  }
  if (settings.httpsPort !== undefined) {
    const names = [...service.hostnames, context.address]
    if (service.hostnames.length === 0) names.push('localhost')
    // loaded here, not at the top: the supervisor imports every driver when it boots, and the
    // certificate code (node-forge) is only needed once the lb starts
    const { issueCertificate } = await import('../../tls/issue.js')
    const certificate = await issueCertificate({ names, cacheDir: path.join(new ProjectPaths(context.project.root).dir, 'tls'), home: context.machineHome })
    if (certificate.issued) context.log(`issued a certificate for ${certificate.names.join(', ')}, valid until ${certificate.notAfter.toISOString().slice(0, 10)}`)
    config.https = { port: context.port(settings.httpsPort), certificateFile: certificate.certificateFile, privateKeyFile: certificate.privateKeyFile }
  }
  return config
}

function backendConfig(service: ServiceSpec, settings: LbSettings, name: string, context: ServiceContext, peers: (name: string) => ServiceSpec | undefined): BackendConfig {
  const endpoint = context.endpoint(name)
  const peer = peers(name)
  const declared = settings.backendPort ?? peer?.ports[0]
  if (declared === undefined) {
    throw new DevenvError('BOX', `load balancer ${service.name}: cannot tell which port of ${name} to forward to`, {
      hint: `Declare ports on ${name}, or set backend_port on ${service.name}.`,
    })
  }
  const port = endpoint.port(declared)
  const health = peer?.health?.check
  const check: BackendConfig['check'] =
    health?.kind === 'http'
      ? { kind: 'http', path: health.path, port: endpoint.port(health.port), ...(health.status !== undefined ? { status: health.status } : {}) }
      : { kind: 'tcp', port }
  return { name, address: endpoint.address, port, check }
}

async function peerLookup(context: LbContext): Promise<(name: string) => ServiceSpec | undefined> {
  if (context.peer) return (name) => context.peer!(name)
  let services: Record<string, ServiceSpec>
  try {
    // only without a runtime that knows the peers: the envfile loader (ajv, yaml) stays out of the supervisor's boot
    const { loadEnvfile } = await import('../../envfile/index.js')
    services = loadEnvfile({ cwd: context.project.root }).services
  } catch {
    // Without the envfile, backend_port still works; backendConfig says what is missing.
    services = {}
  }
  return (name) => services[name]
}
