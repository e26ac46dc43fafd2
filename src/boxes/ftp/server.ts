import { createHash, timingSafeEqual } from 'node:crypto'
import type { EventEmitter } from 'node:events'
import { mkdirSync, realpathSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { FtpSrv, type FtpConnection } from 'ftp-srv'
import { applyCommandRules } from './command-rules.js'
import type { FtpServerConfig, FtpServerUser } from './config.js'
import { ConfinedFileSystem } from './confined-fs.js'
import { LOGIN_GUARD_DEFAULTS, LoginGuard } from './login-guard.js'

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
  const guard = new LoginGuard(config.loginGuard ?? LOGIN_GUARD_DEFAULTS)
  const server = new FtpSrv({
    url: `ftp://${config.address}:${config.port}`,
    // a function, not a string: for a string ftp-srv answers local clients with their own address,
    // while the passive port listens on the service's (its types miss the function form)
    pasv_url: (() => config.publicAddress ?? config.address) as unknown as string,
    pasv_min: config.pasvPorts[0],
    pasv_max: config.pasvPorts[1],
    anonymous: false,
    greeting: 'devenv ftp',
    log: silent,
    timeout: 5 * 60_000,
  })

  // ftp-srv emits 'connect' before its greeting; its type declarations miss the event
  ;(server as unknown as EventEmitter).on('connect', ({ connection }: { connection: FtpConnection }) => applyCommandRules(connection, guard))
  server.on('login', async ({ connection, username, password }, resolve, reject) => {
    const address = connection.ip ?? ''
    // checked again here, not only before PASS: another connection from the address may have just locked it
    const lockedFor = guard.lockedFor(address)
    if (lockedFor > 0) return reject(Object.assign(new Error(`Too many failed logins from your address: try again in ${Math.ceil(lockedFor / 1000)} s`), { code: 530 }))
    const user = users.get(username)
    if (!user || !passwordMatches(user, password)) {
      // counted before the delay, so that guesses made at once on many connections are counted at once
      const lockout = guard.recordFailure(address)
      log(`refused login as ${JSON.stringify(username)} from ${address}${lockout ? `; ${address} is locked out for ${Math.ceil(lockout / 1000)} s after ${guard.settings.lockoutAfter} failed logins` : ''}`)
      await sleep(guard.settings.failedLoginDelayMs)
      return reject(Object.assign(new Error('Login incorrect'), { code: 530 }))
    }
    guard.recordSuccess(address)
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
