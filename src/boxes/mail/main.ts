import { once } from 'node:events'
import { readMailConfig } from './config.js'
import { createSmtpServer } from './smtp.js'
import { MessageStore } from './store.js'
import { createWebServer } from './web.js'

/** The mail box's server process: SMTP and the web page/API, at the service's own address. */
const log = (line: string): void => {
  process.stdout.write(`${line}\n`)
}

async function start(): Promise<{ smtp: ReturnType<typeof createSmtpServer>; web: ReturnType<typeof createWebServer> }> {
  const config = readMailConfig(process.env.DEVENV_BOX_CONFIG)
  const store = new MessageStore(config.messagesDir)
  await store.open()
  const smtp = createSmtpServer(config, store, log)
  const web = createWebServer(config, store, log)
  smtp.listen(config.smtpPort, config.address)
  await once(smtp.server, 'listening')
  web.listen(config.webPort, config.address)
  await once(web, 'listening')
  log(`mail: SMTP on ${config.address}:${config.smtpPort}, web on http://${config.address}:${config.webPort}/ (${store.list().length} messages kept)`)
  return { smtp, web }
}

const { smtp, web } = await start().catch((error: Error) => {
  // one line for the service log; the supervisor sees the exit code
  process.stderr.write(`mail: cannot start: ${error.message}\n`)
  process.exit(1)
})

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  log(`mail: ${signal}, stopping`)
  web.closeAllConnections()
  web.close()
  smtp.close(() => process.exit(0))
  // clients that keep a session open are not waited for
  setTimeout(() => process.exit(0), 2000).unref()
}
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
