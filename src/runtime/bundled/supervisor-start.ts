import { rmSync } from 'node:fs'
import type { EnvSpec } from '../../envfile/index.js'
import { readJson, writeJsonAtomic } from '../../state/index.js'
import { ProjectPaths } from '../../state/index.js'
import type { ServicePreparation } from '../runtime.js'
import { restoreExtraCaCerts } from '../../util/node-start-env.js'
import { processStartTicks } from './process.js'
import { supervisorBuild, supervisorFiles } from './locate.js'
import { Supervisor } from './supervisor.js'

/**
 * The supervisor of the project at `root`: reads the spec it was started with from
 * .devenv/spec.json and takes orders on its socket until told to stop. Its entries are
 * supervisor-main.ts and, in the bundle, scripts/bundle-entries/supervisor.mjs.
 */
export async function runSupervisor(root: string, preparation: ServicePreparation): Promise<void> {
  const withoutExtraCaCerts = restoreExtraCaCerts()
  const paths = new ProjectPaths(root)
  const spec = readJson<EnvSpec>(`${paths.dir}/spec.json`)
  if (!spec) {
    process.stderr.write(`no spec in ${paths.dir}/spec.json\n`)
    process.exit(2)
  }
  const files = supervisorFiles(root)

  const exit = (): void => {
    rmSync(files.info, { force: true })
    process.exit(0)
  }
  const supervisor = new Supervisor(spec, files.socket, preparation, undefined, exit)
  await supervisor.listen()
  writeJsonAtomic(files.info, {
    pid: process.pid,
    pidStart: processStartTicks(process.pid),
    socket: files.socket,
    startedAt: new Date().toISOString(),
    build: supervisorBuild(),
    ...(withoutExtraCaCerts ? { withoutExtraCaCerts } : {}),
  })
  process.stdout.write(`supervisor ${process.pid} listening on ${files.socket}\n`)

  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.on(signal, () => {
      void supervisor.shutdown().finally(exit)
    })
  }
  // stdout and stderr are .devenv/logs/supervisor.log: on a full disk a write to it fails, and an
  // unhandled 'error' of the stream would come back here as an uncaught exception, then again.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined)
  process.on('uncaughtException', (error) => {
    process.stderr.write(`supervisor: uncaught ${error.stack ?? error}\n`)
  })
}
