import { createHash, timingSafeEqual } from 'node:crypto'
import { mkdirSync, realpathSync } from 'node:fs'
import { FtpSrv } from 'ftp-srv'
import type { FtpServerConfig, FtpServerUser } from './config.js'
import { ConfinedFileSystem } from './confined-fs.js'

type Log = (line: string) => void

const HANG_UPS = new Set(['ECONNRESET', 'EPIPE'])

/** ftp-srv logs through bunyan, commands and errors included; this box logs its own events instead. */
const silent = {
  child: () => silent,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  fatal: () => undefined,
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** Compares in constant time, so that response times tell nothing of a password. */
function passwordMatches(user: FtpServerUser, password: string): boolean {
  return timingSafeEqual(digest(user.password), digest(password))
}

/** The ftp box's server: the declared users only, each confined to its own folder; passive mode on the service's address. */
export function createFtpServer(config: FtpServerConfig, log: Log): FtpSrv {
  const users = new Map(config.users.map((user) => [user.name, user]))
  const server = new FtpSrv({
    url: `ftp://${config.address}:${config.port}`,
    // a function, not a string: for a string ftp-srv answers local clients with their own address,
    // while the passive port listens on the service's (its types miss the function form)
    pasv_url: (() => config.address) as unknown as string,
    pasv_min: config.pasvPorts[0],
    pasv_max: config.pasvPorts[1],
    anonymous: false,
    greeting: 'devenv ftp',
    log: silent,
    timeout: 5 * 60_000,
  })

  server.on('login', ({ connection, username, password }, resolve, reject) => {
    const user = users.get(username)
    if (!user || !passwordMatches(user, password)) {
      log(`refused login as ${JSON.stringify(username)} from ${connection.ip}`)
      return reject(Object.assign(new Error('Login incorrect'), { code: 530 }))
    }
    try {
      // the folder may have been removed while the service ran, or be an empty mount point
      mkdirSync(user.root, { recursive: true })
      const realRoot = realpathSync(user.root)
      log(`${username} logged in from ${connection.ip}`)
      resolve({ fs: new ConfinedFileSystem(connection, realRoot) })
    } catch (error) {
      log(`cannot open the folder of ${username}: ${(error as Error).message}`)
      reject(Object.assign(new Error('Cannot open your folder'), { code: 550 }))
    }
  })
  server.on('client-error', ({ context, error }) => {
    // a client that hangs up (a port scan, a TCP health check, a closed laptop) is no error of ours
    if (HANG_UPS.has((error as NodeJS.ErrnoException).code ?? '')) return
    log(`client error (${context}): ${error.message}`)
  })
  return server
}
