import { mkdirSync } from 'node:fs'
import { DevenvError } from '../../errors.js'
import type { BoxDriver } from '../driver.js'
import { NodeProgramBox } from '../node-program.js'
import type { FtpServerConfig } from './config.js'
import { loginGuardSettings } from './guard-settings.js'
import { ftpProbe } from './probe.js'

const program = new NodeProgramBox(new URL('./main.js', import.meta.url), 'ftp')
const PROBE_TIMEOUT_MS = 2000

/** The ftp box: an FTP server with the declared users, run as a Node program of the package. */
export const ftpDriver: BoxDriver = {
  kind: 'ftp',

  async prepare(context) {
    const settings = context.service.ftp
    if (!settings) throw new DevenvError('BOX', `service ${context.service.name} has no ftp settings`)
    mkdirSync(context.dataDir, { recursive: true })
    for (const user of settings.users) mkdirSync(user.root, { recursive: true })
    const config: FtpServerConfig = {
      address: context.address,
      ...(context.publicAddress ? { publicAddress: context.publicAddress } : {}),
      port: context.port(settings.port),
      // passive ports are opened on the service's own address, where nothing else listens
      pasvPorts: settings.pasvPorts,
      users: settings.users.map((user) => ({ name: user.name, password: user.password, root: user.root })),
      loginGuard: loginGuardSettings(context.service.name, context.service.env),
    }
    // it holds the users' passwords
    program.writeConfig(context, config, 0o600)
  },

  launch(context) {
    return program.launch(context, context.dataDir)
  },

  probe(context) {
    return ftpProbe(context.address, context.port(context.service.ftp?.port ?? 21), PROBE_TIMEOUT_MS)
  },
}
