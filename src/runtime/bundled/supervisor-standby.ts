import { openSync, writeSync } from 'node:fs'
import type { StandbyOrders } from './standby.js'

/**
 * In a supervisor started in standby (standby.ts): its code is loaded; waits for the CLI's orders
 * and becomes the supervisor they name, as one spawned for it would be. Exits when the CLI goes
 * without giving any.
 */
export async function awaitStandbyOrders(): Promise<StandbyOrders> {
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
