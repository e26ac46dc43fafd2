import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { runDevenv } from '../support/cli.js'
import { dockerUnavailable } from '../support/docker.js'
import { labelledObjects } from '../support/docker-images.js'
import { reserveAddressBlock } from '../runtime/helpers.js'

const FIXTURE = path.join(import.meta.dirname, '..', 'fixtures', 'runtime-contract')
const unavailable = await dockerUnavailable()
if (unavailable) process.stdout.write(`docker suite skipped: ${unavailable}\n`)

describe.skipIf(unavailable)('two commands at once on the docker provider', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'devenv-docker-concurrent-'))
  const root = path.join(base, 'project')
  cpSync(FIXTURE, root, { recursive: true })
  const env = { DEVENV_HOME: path.join(base, 'home'), NO_COLOR: '1' }
  reserveAddressBlock(env.DEVENV_HOME, root)
  const run = (args: string[]) => runDevenv(args, { cwd: root, env, timeout: 120_000 })

  afterAll(async () => {
    await run(['down'])
    rmSync(base, { recursive: true, force: true })
  }, 60_000)

  it('two `up --runtime docker` at once both succeed, with one container of each service', async () => {
    const [first, second] = await Promise.all([
      run(['up', '--runtime', 'docker', '--no-hosts']),
      run(['up', '--runtime', 'docker', '--no-hosts']),
    ])
    expect(first.exitCode, first.stderr).toBe(0)
    expect(second.exitCode, second.stderr).toBe(0)
    expect((await labelledObjects(root)).containers).toHaveLength(2)
  }, 180_000)
})
