// The bundled supervisor (scripts/bundle-cli.mjs): supervisor-main.js with the engine's preparation
// linked in, so that both share one copy of every module and load as a few files. A preparation
// module other than the engine's own (none is passed today) is still imported as given.
import { preparation as enginePreparation } from '../../dist/engine/preparation.js'
import { STANDBY_FLAG } from '../../dist/runtime/bundled/standby.js'
import { awaitStandbyOrders } from '../../dist/runtime/bundled/supervisor-standby.js'
import { runSupervisor } from '../../dist/runtime/bundled/supervisor-start.js'

// In standby (bin/devenv started it before the CLI loaded), everything above is loaded already.
const [root, preparationModule] =
  process.argv[2] === STANDBY_FLAG
    ? await awaitStandbyOrders().then((orders) => [orders.root, orders.preparationModule])
    : process.argv.slice(2)
if (!root || !preparationModule) {
  process.stderr.write('usage: supervisor-main.js <project root> <preparation module URL>\n')
  process.exit(2)
}
// The bundle's banner sets the dist/ folder's URL (scripts/bundle-cli.mjs).
const own = new URL('engine/preparation.js', globalThis.__devenvDistRoot).href
const preparation = preparationModule === own ? enginePreparation : (await import(preparationModule)).preparation
await runSupervisor(root, preparation)
