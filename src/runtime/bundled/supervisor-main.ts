/**
 * The supervisor process: `node supervisor-main.js <project root> <preparation module URL>`,
 * started detached by the CLI, or `node supervisor-main.js --standby`, started by bin/devenv and
 * given both on its stdin (standby.ts). It loads the engine's preparation (see RuntimeOptions) and
 * then runs the project's supervisor (supervisor-start.ts).
 */
import type { ServicePreparation } from '../runtime.js'
import { STANDBY_FLAG } from './standby.js'
import { awaitStandbyOrders } from './supervisor-standby.js'
import { runSupervisor } from './supervisor-start.js'

const [root, preparationModule] =
  process.argv[2] === STANDBY_FLAG
    ? await awaitStandbyOrders().then((orders) => [orders.root, orders.preparationModule])
    : process.argv.slice(2)
if (!root || !preparationModule) {
  process.stderr.write('usage: supervisor-main.js <project root> <preparation module URL>\n')
  process.exit(2)
}
const { preparation } = (await import(preparationModule)) as { preparation: ServicePreparation }
await runSupervisor(root, preparation)
