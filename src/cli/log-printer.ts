import type { EnvSpec } from '../envfile/index.js'
import type { Runtime, ServiceLogLine } from '../runtime/index.js'
import { colors } from './output.js'

const PALETTE = [colors.cyan, colors.magenta, colors.yellow, colors.green, colors.blue, colors.red]

/** Prints log lines prefixed with their service, each service in its own colour, as Compose does. */
export function logPrinter(services: string[], options: { timestamps?: boolean } = {}): (line: ServiceLogLine) => void {
  const width = Math.max(0, ...services.map((name) => name.length))
  return (line) => {
    const color = PALETTE[Math.max(0, services.indexOf(line.service)) % PALETTE.length]!
    const prefix = color(`${line.service.padEnd(width)} |`)
    const time = options.timestamps ? `${colors.dim(line.time)} ` : ''
    const own = options.timestamps ? withoutOwnTimestamp(line.text) : line.text
    const text = line.stream === 'devenv' ? colors.dim(`[devenv] ${own}`) : own
    process.stdout.write(`${prefix} ${time}${text}\n`)
  }
}

/** Follows the services' logs until Ctrl-C (or SIGTERM); resolves then. */
export async function followUntilInterrupted(
  runtime: Runtime,
  spec: EnvSpec,
  services: string[],
  print: (line: ServiceLogLine) => void,
): Promise<void> {
  const abort = new AbortController()
  const stop = (): void => abort.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  await runtime.follow(spec, services, print, abort.signal)
  process.off('SIGINT', stop)
  process.off('SIGTERM', stop)
}

const LEADING_ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z /

/** A program that stamps its own lines (the balancer does) shows one time with -t, not two. */
function withoutOwnTimestamp(text: string): string {
  return text.replace(LEADING_ISO_TIME, '')
}
