// Snapshot and restore times of a service data folder shaped like a PostgreSQL cluster, at two
// sizes: ~54 MB (a 300,000-row database) and ~1 GB. Run after a build: node bench/snapshot.mjs [--runs N] [--only small|large]
// Prints medians. Figures are warm-cache (the page cache is not dropped: the machine is shared).
import { mkdirSync, mkdtempSync, openSync, writeSync, closeSync, rmSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { ProjectPaths } from '../dist/state/paths.js'
import { saveSnapshot, restoreSnapshot, deleteSnapshot } from '../dist/snapshots/index.js'

const args = process.argv.slice(2)
const runs = Number(args[args.indexOf('--runs') + 1]) || 5
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined
const MB = 1024 * 1024
const pattern = randomBytes(16 * MB)

function writeFile(file, bytes) {
  const fd = openSync(file, 'w', 0o600)
  let left = bytes
  let offset = 0
  while (left > 0) {
    const size = Math.min(left, pattern.length - offset)
    writeSync(fd, pattern, offset, size)
    left -= size
    offset = (offset + 4099) % (pattern.length / 2)
  }
  closeSync(fd)
}

/** A cluster's shape: ~960 small catalog files (~24 MB) plus the user table's heap, index and WAL. */
function makeCluster(data, tableBytes) {
  const base = path.join(data, 'pgdata', 'base', '16384')
  mkdirSync(base, { recursive: true })
  mkdirSync(path.join(data, 'pgdata', 'pg_wal'), { recursive: true })
  mkdirSync(path.join(data, 'pgdata', 'global'), { recursive: true })
  for (let index = 0; index < 960; index++) writeFile(path.join(base, String(1000 + index)), 8192 * (1 + (index % 5)))
  writeFile(path.join(data, 'pgdata', 'PG_VERSION'), 3)
  writeFile(path.join(data, 'pgdata', 'pg_wal', '000000010000000000000001'), 16 * MB)
  const heap = Math.round(tableBytes * 0.75)
  writeFile(path.join(base, '24576'), heap)
  writeFile(path.join(base, '24580'), tableBytes - heap)
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const idle = async () => async () => {}

async function bench(label, tableBytes, count) {
  const root = mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), 'devenv-bench-'))
  try {
    const paths = new ProjectPaths(root)
    makeCluster(paths.serviceData('db'), tableBytes)
    const saves = []
    const restores = []
    let size = 0
    for (let run = 0; run < count; run++) {
      let started = performance.now()
      const manifest = await saveSnapshot({
        paths,
        service: 'db',
        box: 'postgres',
        kind: 'postgres',
        boxVersion: '17',
        name: `run${run}`,
        quiesce: idle,
      })
      saves.push(performance.now() - started)
      size = manifest.size
      started = performance.now()
      await restoreSnapshot({
        paths,
        service: 'db',
        name: `run${run}`,
        box: 'postgres',
        boxVersion: '17',
        quiesce: idle,
      })
      restores.push(performance.now() - started)
      await deleteSnapshot(paths, 'db', `run${run}`)
    }
    const ms = (value) => `${Math.round(value)} ms`
    console.log(
      `${label}: ${(size / MB).toFixed(1)} MiB, ${count} runs | snapshot median ${ms(median(saves))} (min ${ms(Math.min(...saves))}) | restore median ${ms(median(restores))} (min ${ms(Math.min(...restores))})`,
    )
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

console.log(
  `node ${process.version}, ${os.cpus().length} cpus (${os.cpus()[0]?.model}), ${os.platform()} ${os.release()}`,
)
if (only !== 'large') await bench('300,000-row database (~54 MB)', 14 * MB, runs)
if (only !== 'small') await bench('1 GB database', 1000 * MB - 40 * MB, Math.max(3, Math.ceil(runs / 2)))
