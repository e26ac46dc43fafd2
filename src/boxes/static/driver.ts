import { request } from 'node:http'
import { statSync } from 'node:fs'
import path from 'node:path'
import type { BoxDriver, ProbeResult, ServiceContext } from '../driver.js'
import type { StaticSettings } from '../../envfile/index.js'
import { DevenvError } from '../../errors.js'
import { writeJsonAtomic } from '../../state/index.js'
import { withoutExtraCaCerts } from '../../util/node-start-env.js'
import { programEntry } from '../node-program.js'
import type { StaticServerConfig } from './config.js'

const SERVER_MAIN = programEntry(new URL('./main.js', import.meta.url))
const PROBE_TIMEOUT_MS = 2000

/** The `static` box: serves `static.root` over HTTP, reading from disk on every request. */
export const staticDriver: BoxDriver = {
  kind: 'static',

  async prepare(context) {
    const settings = staticSettings(context)
    if (!statSync(settings.root, { throwIfNoEntry: false })?.isDirectory()) {
      throw new DevenvError('BOX', `the folder ${settings.root} that ${context.service.name} serves does not exist`, {
        hint: `Create it, or point \`root\` of ${context.service.name} at an existing folder.`,
      })
    }
    const config: StaticServerConfig = {
      service: context.service.name,
      root: settings.root,
      address: context.address,
      port: context.port(settings.port),
      spa: settings.spa,
    }
    writeJsonAtomic(configFile(context), config)
  },

  launch(context) {
    return {
      command: process.execPath,
      args: [SERVER_MAIN],
      env: { ...withoutExtraCaCerts(context.env), DEVENV_BOX_CONFIG: configFile(context) },
      cwd: staticSettings(context).root,
    }
  },

  /** Any HTTP answer means the server is up: a site without index.html is still serving. */
  probe(context) {
    const port = context.port(staticSettings(context).port)
    return new Promise<ProbeResult>((resolve) => {
      const probe = request({ host: context.address, port, method: 'HEAD', path: '/', timeout: PROBE_TIMEOUT_MS, agent: false }, (response) => {
        response.resume()
        resolve({ ok: true })
      })
      probe.on('timeout', () => probe.destroy(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)))
      probe.on('error', (error) => resolve({ ok: false, reason: `http://${context.address}:${port}/: ${error.message}` }))
      probe.end()
    })
  },
}

function staticSettings(context: ServiceContext): StaticSettings {
  const settings = context.service.static
  if (!settings) {
    throw new DevenvError('INTERNAL', `service ${context.service.name} uses the static box but has no static settings`)
  }
  return settings
}

function configFile(context: ServiceContext): string {
  return path.join(context.runDir, 'static.json')
}
