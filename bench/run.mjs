// Runs every benchmark in this folder in turn (`npm run bench`); each prints its own medians.
// vs-compose.mjs needs a Docker engine and says so in one line (and passes) where none answers.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const only = process.argv.slice(2)
const benches = readdirSync(here)
  .filter((file) => file.endsWith('.mjs') && file !== 'run.mjs')
  .filter((file) => only.length === 0 || only.some((name) => file.includes(name)))
  .sort()
let failed = 0
for (const bench of benches) {
  process.stdout.write(`\n=== ${bench} ===\n`)
  const result = spawnSync(process.execPath, [path.join(here, bench)], { stdio: 'inherit' })
  if (result.status !== 0) failed++
}
process.exit(failed ? 1 : 0)
