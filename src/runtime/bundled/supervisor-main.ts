/**
 * The supervisor process: `node supervisor-main.js <project root> <preparation module URL>`,
 * started detached by the CLI. It loads the engine's preparation (see RuntimeOptions) and then
 * runs the project's supervisor (supervisor-start.ts).
 */
import type { ServicePreparation } from '../runtime.js'
import { runSupervisor } from './supervisor-start.js'

const [root, preparationModule] = process.argv.slice(2)
if (!root || !preparationModule) {
  process.stderr.write('usage: supervisor-main.js <project root> <preparation module URL>\n')
  process.exit(2)
}
const { preparation } = (await import(preparationModule)) as { preparation: ServicePreparation }
await runSupervisor(root, preparation)
