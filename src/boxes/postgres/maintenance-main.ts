/** Entry point of the detached process started by startMaintenance: `node maintenance-main.js DATA_DIR HOST PORT`. */
import { crashPoint } from '../../util/crash-points.js'
import { readSuperuserPassword } from './layout.js'
import { maintain } from './maintenance.js'

const [dataDir, host, port] = process.argv.slice(2)
const superuserPassword = dataDir ? readSuperuserPassword(dataDir) : undefined
if (!dataDir || !host || !port || !superuserPassword) process.exit(2)
try {
  await maintain({ host, port: Number(port), superuserPassword }, dataDir, crashPoint)
} catch {
  // Nobody to tell: whatever is left is done by the next maintenance (after a reset, or at start).
  process.exitCode = 1
}
