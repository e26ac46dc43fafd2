import { SMTPServer, type SMTPServerAddress } from 'smtp-server'
import { NO_CLIENT_CERTIFICATE_AUTHORITIES } from '../../util/tls-server.js'
import type { MailServerConfig } from './config.js'
import type { MessageStore } from './store.js'

type Log = (line: string) => void

/** An SMTP error with the reply code the client gets. */
function reply(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code })
}

/** A deliverable address: local@domain, no spaces or angle brackets (smtp-server has stripped the outer ones). */
const ADDRESS = /^[^\s@<>]+@[^\s@<>]+$/

/**
 * The mail catcher's SMTP side: no authentication, no TLS (it only listens on the service's loopback
 * address), the size limit announced in EHLO and enforced while the message streams in.
 */
export function createSmtpServer(config: MailServerConfig, store: MessageStore, log: Log): SMTPServer {
  const accounts = new Set(config.accounts.map((account) => account.toLowerCase()))
  const server = new SMTPServer({
    name: config.hostname,
    banner: 'devenv mail catcher',
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    // smtp-server makes a TLS context even with STARTTLS off.
    ca: NO_CLIENT_CERTIFICATE_AUTHORITIES,
    size: config.maxSizeBytes,
    rejectOversized: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: 100,
    maxRecipients: 100,
    socketTimeout: 60_000,
    onMailFrom(address: SMTPServerAddress, _session, callback) {
      // the null sender <> of bounces is allowed
      if (address.address !== '' && !ADDRESS.test(address.address)) return callback(reply(553, `5.1.7 bad sender address <${address.address}>`))
      callback()
    },
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      const recipient = address.address
      if (!ADDRESS.test(recipient)) return callback(reply(553, `5.1.3 bad recipient address <${recipient}>`))
      if (!config.catchAll && !accounts.has(recipient.toLowerCase())) {
        log(`refused mail for ${recipient}: not a declared account`)
        return callback(reply(550, `5.1.1 <${recipient}>: no such mailbox here`))
      }
      callback()
    },
    onData(stream, session, callback) {
      const envelope = {
        from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        to: session.envelope.rcptTo.map((recipient) => recipient.address),
      }
      store.receive(stream, envelope, config.maxSizeBytes).then(
        (result) => {
          if (!result.stored) {
            log(`refused a message from ${envelope.from || '<>'}: over ${config.maxSizeBytes} bytes`)
            return callback(reply(552, `5.3.4 message exceeds the maximum size of ${config.maxSizeBytes} bytes`))
          }
          const { summary } = result
          log(`received message ${summary.id} from ${envelope.from || '<>'} to ${envelope.to.join(', ')} (${summary.size} bytes)`)
          callback(null, `OK: stored as message ${summary.id}`)
        },
        (error: Error) => {
          log(`could not store a message from ${envelope.from || '<>'}: ${error.message}`)
          // drain what is left so the client gets its reply
          stream.resume()
          callback(reply(451, '4.3.0 could not store the message, try again later'))
        },
      )
    },
  })
  // a client that resets its connection must never take the server down
  server.on('error', (error: Error & { code?: string }) => log(`smtp: ${error.code ?? ''} ${error.message}`.replace('  ', ' ')))
  return server
}
