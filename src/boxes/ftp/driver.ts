import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { DevenvError } from '../../errors.js'
import { writeJsonAtomic } from '../../state/atomic.js'
import type { BoxDriver, ServiceContext } from '../driver.js'
import type { FtpServerConfig } from './config.js'

const MAIN = fileURLToPath(new URL('./main.js', import.meta.url))

function configPath(context: ServiceContext): string {
  return path.join(context.runDir, 'ftp.json')
}

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
      port: context.port(settings.port),
      // passive ports are opened on the service's own address, where nothing else listens
      pasvPorts: settings.pasvPorts,
      users: settings.users.map((user) => ({ name: user.name, password: user.password, root: user.root })),
    }
    // it holds the users' passwords
    writeJsonAtomic(configPath(context), config, 0o600)
  },

  launch(context) {
    return {
      command: process.execPath,
      args: [MAIN],
      env: { ...context.env, DEVENV_BOX_CONFIG: configPath(context) },
      cwd: context.dataDir,
    }
  },
}
