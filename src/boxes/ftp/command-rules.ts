import type { FtpConnection } from 'ftp-srv'
import type { LoginGuard } from './login-guard.js'

/** The parts of ftp-srv's (4.6) connection these rules use, which its type declarations leave out. */
interface ConnectionInternals {
  ip: string | undefined
  username?: string | undefined
  authenticated?: boolean
  transferType: string
  commands: {
    handle(message: string | { directive: string }): Promise<unknown>
    parse(message: string): { directive: string; arg: string | null }
  }
  reply(code: number, ...lines: (string | { message: string; raw: true })[]): Promise<unknown>
  close(code?: number, message?: string): Promise<unknown>
}

type Rule = (connection: ConnectionInternals, arg: string | null) => Promise<unknown> | 'pass'

/**
 * What FEAT lists: ftp-srv's own list without AUTH TLS, PBSZ and PROT, which need a certificate
 * this box does not have (no FTPS): a client must not be offered what then fails.
 */
const FEATURES = ['MDTM', 'SIZE', 'TYPE A,I,L', 'UTF8']
const NO_TLS = 'Not implemented: this server has no FTPS (FTP over TLS)'

/** RFC 2577 §3: no data connection to a privileged port, lest the server be bounced onto SMTP and the like. */
function dataPortRule(parse: (arg: string) => number | undefined, syntax: string): Rule {
  return (connection, arg) => {
    const port = arg === null ? undefined : parse(arg)
    if (port === undefined) return connection.reply(501, `Syntax error: ${syntax}`)
    if (port < 1024) return connection.reply(504, `Refused: data connections go to ports 1024 and above, not ${port}`)
    return 'pass'
  }
}

function portOfPort(arg: string): number | undefined {
  const numbers = arg.split(',').map((part) => (/^\d{1,3}$/.test(part.trim()) ? Number(part) : NaN))
  if (numbers.length !== 6 || numbers.some((number) => !(number <= 255))) return undefined
  return numbers[4]! * 256 + numbers[5]!
}

function portOfEprt(arg: string): number | undefined {
  const [, , , port] = arg.split(arg[0] ?? '|')
  return port !== undefined && /^\d{1,5}$/.test(port) && Number(port) <= 65535 ? Number(port) : undefined
}

function rules(guard: LoginGuard): Record<string, Rule> {
  return {
    // RFC 959: USER starts a new login; ftp-srv kept the first name after a failed PASS for good
    USER: (connection) => {
      if (!connection.authenticated) connection.username = undefined
      return 'pass'
    },
    PASS: (connection) => {
      const wait = guard.lockedFor(connection.ip ?? '')
      if (wait === 0) return 'pass'
      return connection.close(421, `Too many failed logins from your address: try again in ${Math.ceil(wait / 1000)} s`)
    },
    PORT: dataPortRule(portOfPort, 'PORT h1,h2,h3,h4,p1,p2'),
    EPRT: dataPortRule(portOfEprt, 'EPRT |protocol|address|port|'),
    FEAT: (connection) => connection.reply(211, 'Extensions supported', ...FEATURES.map((feature) => ({ message: ` ${feature}`, raw: true as const })), 'End'),
    // RFC 959 writes the local byte size after a space ("TYPE L 8"); ftp-srv knows only "L8"
    TYPE: (connection, arg) => {
      if (!connection.authenticated || !/^L\s+8$/i.test(arg ?? '')) return 'pass'
      connection.transferType = 'binary'
      return connection.reply(200, 'Switch to "binary" transfer mode.')
    },
    AUTH: (connection) => connection.reply(502, NO_TLS),
    PBSZ: (connection) => connection.reply(502, NO_TLS),
    PROT: (connection) => connection.reply(502, NO_TLS),
  }
}

/**
 * Puts this box's rules in front of ftp-srv's command handling on a connection, and runs the
 * connection's commands one at a time: ftp-srv handles each packet's commands in turn but two
 * packets at once, so a client that does not wait for answers could have several PASS checked
 * in parallel, each under the delay of a failed login instead of one after the other.
 */
export function applyCommandRules(ftpConnection: FtpConnection, guard: LoginGuard): void {
  const connection = ftpConnection as unknown as ConnectionInternals
  const table = rules(guard)
  const handle = connection.commands.handle.bind(connection.commands)
  let queue: Promise<unknown> = Promise.resolve()
  connection.commands.handle = (message) => {
    const run = queue.then(() => {
      const command = typeof message === 'string' ? connection.commands.parse(message) : (message as { directive: string; arg: string | null })
      const rule = table[command.directive]
      const outcome = rule ? rule(connection, command.arg) : 'pass'
      return outcome === 'pass' ? handle(command) : outcome
    })
    queue = run.catch(() => undefined)
    return run
  }
}
