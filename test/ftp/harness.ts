import type { ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { loadEnvfile, type EnvSpec } from '../../src/envfile/index.js'
import { FIXTURES } from '../cli/run-cli.js'
import { randomLoopback } from '../mail/harness.js'
import { launchBox } from '../support/launch-box.js'
import { testServiceContext } from '../support/service-context.js'

// The driver launches dist/boxes/ftp/main.js: build first with `npx tsc -p tsconfig.build.json`.
const { ftpDriver } = (await import(
  new URL('../../dist/boxes/ftp/driver.js', import.meta.url).href
)) as typeof import('../../src/boxes/ftp/driver.js')

/** A copy of the ftp-project fixture in a temp folder, loaded as devenv would; `env` goes into the ftp service's `env:` of its envfile. */
export function ftpProject(env: Record<string, string> = {}): { root: string; spec: EnvSpec; remove(): void } {
  const root = mkdtempSync(path.join(tmpdir(), 'devenv-ftp-'))
  cpSync(path.join(FIXTURES, 'ftp-project'), root, { recursive: true })
  if (Object.keys(env).length) {
    const envfile = path.join(root, 'devenv.yaml')
    writeFileSync(
      envfile,
      readFileSync(envfile, 'utf8').replace('    box: ftp\n', `    box: ftp\n    env: ${JSON.stringify(env)}\n`),
    )
  }
  return {
    root,
    spec: loadEnvfile({ cwd: root, variables: {} }),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
}

export interface RunningFtp {
  address: string
  port: number
  runDir: string
  output(): string
  stop(): Promise<number | null>
  child: ChildProcess
}

/** Prepares and launches the project's ftp service through its driver, as the runtime does (port 21 becomes 2121). */
export async function startFtp(spec: EnvSpec, service = 'ftp'): Promise<RunningFtp> {
  const address = randomLoopback()
  const context = testServiceContext(spec, service, address, (declared) => (declared === 21 ? 2121 : declared))
  const box = await launchBox(ftpDriver, context, 'ftp: listening on')
  return {
    address,
    port: 2121,
    runDir: context.runDir,
    ...box,
  }
}
