import path from 'node:path'
import type { LbSettings, ServiceSpec } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { ProjectPaths } from '../../state/index.js'
import type { BoxDriver, ServiceContext } from '../driver.js'
import { NodeProgramBox } from '../node-program.js'
import { LB_DEFAULTS, type BackendConfig, type LbConfig } from './config.js'

const program = new NodeProgramBox(new URL('./main.js', import.meta.url), 'lb')

export function lbConfigFile(context: ServiceContext): string {
  return program.configFile(context)
}

export const lbDriver: BoxDriver = {
  kind: 'lb',

  async prepare(context) {
    program.writeConfig(context, await buildLbConfig(context))
  },

  launch(context) {
    return program.launch(context, context.runDir)
  },
}

export async function buildLbConfig(context: ServiceContext): Promise<LbConfig> {
  const { service } = context
  const settings = service.lb
  if (!settings) throw new DevenvError('BOX', `service ${service.name} has no load balancer settings`)
  const config: LbConfig = {
    service: service.name,
    address: context.address,
    hostnames: service.hostnames,
    httpPort: context.port(settings.httpPort),
    strategy: settings.strategy,
    ...(settings.stickyCookie ? { stickyCookie: settings.stickyCookie } : {}),
    backends: settings.backends.map((name) => backendConfig(service, settings, name, context)),
    ...LB_DEFAULTS,
  }
  if (settings.httpsPort !== undefined) {
    const names = [...service.hostnames, context.publicAddress ?? context.address]
    if (service.hostnames.length === 0) names.push('localhost')
    // loaded here, not at the top: the supervisor imports every driver when it boots, and the
    // certificate code (node-forge) is only needed once the lb starts
    const { issueCertificate } = await import('../../tls/index.js')
    const certificate = await issueCertificate({ names, cacheDir: path.join(new ProjectPaths(context.project.root).dir, 'tls'), home: context.machineHome })
    if (certificate.issued) context.log(`issued a certificate for ${certificate.names.join(', ')}, valid until ${certificate.notAfter.toISOString().slice(0, 10)}`)
    config.https = { port: context.port(settings.httpsPort), certificateFile: certificate.certificateFile, privateKeyFile: certificate.privateKeyFile }
  }
  return config
}

function backendConfig(service: ServiceSpec, settings: LbSettings, name: string, context: ServiceContext): BackendConfig {
  const endpoint = context.endpoint(name)
  const peer = context.peer(name)
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
