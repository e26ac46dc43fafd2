import { openSync, writeSync } from 'node:fs'
import path from 'node:path'
import { driverFor } from '../../boxes/index.js'
import type { EnvSpec } from '../../envfile/index.js'
import { ProjectPaths, readJson } from '../../state/index.js'
import type { StandbyOrders } from './standby.js'

/**
 * In a supervisor started in standby (standby.ts): its code is loaded; waits for the CLI's orders
 * and becomes the supervisor they name, as one spawned for it would be. Exits when the CLI goes
 * without giving any.
 */
export async function awaitStandbyOrders(): Promise<StandbyOrders> {
  setImmediate(() => {
    try {
      loadWhatTheLastStartUsed(process.cwd())
    } catch {
      // A spec another devenv build wrote (a kind this one does not know): nothing is loaded early.
    }
  })
  let text = ''
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8')
    if (text.includes('\n')) break
  }
  process.stdin.destroy()
  let orders: StandbyOrders
  try {
    orders = JSON.parse(text) as StandbyOrders
  } catch {
    // Stdin closed without orders: the CLI did not need this supervisor.
    process.exit(0)
  }
  takeOrders(orders)
  return orders
}

function takeOrders(orders: StandbyOrders): void {
  for (const key of Object.keys(process.env)) if (!(key in orders.env)) delete process.env[key]
  Object.assign(process.env, orders.env)
  process.chdir(orders.root)
  // Started before the project was known, its stdout and stderr are /dev/null: what it writes goes to its log.
  const log = openSync(orders.log, 'a', 0o600)
  for (const stream of [process.stdout, process.stderr]) {
    stream.write = ((chunk: string | Uint8Array, encoding?: unknown, callback?: unknown) => {
      const done = typeof encoding === 'function' ? encoding : callback
      try {
        if (typeof chunk === 'string') writeSync(log, chunk)
        else writeSync(log, chunk)
      } catch {
        // A full disk: the line is lost, as with a log file as stdout.
      }
      if (typeof done === 'function') (done as () => void)()
      return true
    }) as typeof stream.write
  }
}

/**
 * While it waits for its orders (60-100 ms, while the CLI loads and resolves the envfile on the
 * other core), the standby loads the code its project's last start needed: the drivers of its
 * boxes (the postgres one brings pg) and, for an lb, the certificate code. Loaded after the
 * orders, the same code was on the way to the first spawn. The guess may be wrong: a driver loaded
 * for nothing costs a few ms, one not loaded is loaded when its service starts, as before.
 */
function loadWhatTheLastStartUsed(root: string): void {
  const spec = readJson<EnvSpec>(path.join(new ProjectPaths(root).dir, 'spec.json'))
  if (!spec?.services) return
  const kinds = new Set(Object.values(spec.services).map((service) => service.kind))
  for (const kind of kinds) void driverFor(kind).catch(() => undefined)
  if (kinds.has('lb')) void import('../../tls/index.js').catch(() => undefined)
}
