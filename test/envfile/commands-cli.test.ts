import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RuntimeProject } from '../runtime/helpers.js'

/** Through the built CLI: `devenv up` of commands written as a user would, and of a hostile .env. */
describe('string commands run as written, interpolated values as data', () => {
  const project = new RuntimeProject('envfile-commands')
  const marker = path.join(tmpdir(), `devenv-pwned-${process.pid}-${Date.now()}`)
  const hostile = `$(touch ${marker}) \`touch ${marker}\`; touch ${marker} "dq" \\ end`

  beforeAll(async () => {
    // single quotes in .env keep the value as written; the unit test covers values holding them
    writeFileSync(path.join(project.root, '.env'), `EVIL='${hostile}'\n`)
    const up = await project.run(['up', '--no-hosts'], { timeout: 60_000 })
    expect(up.exitCode, up.stderr).toBe(0)
  }, 90_000)
  afterAll(async () => {
    await project.cleanup()
    rmSync(marker, { force: true })
  })

  const log = (service: string): string =>
    readFileSync(path.join(project.root, '.devenv', 'logs', `${service}.log`), 'utf8')
  const eventually = async (check: () => boolean): Promise<void> => {
    for (let attempt = 0; attempt < 100 && !check(); attempt++) await new Promise((resolve) => setTimeout(resolve, 100))
  }

  it('`echo first && echo second && sleep 20` runs all three, and the service stays up', async () => {
    await eventually(() => log('compound').includes(' out second\n'))
    expect(log('compound')).toContain(' out first\n')
    expect(log('compound')).toContain(' out second\n')
    const status = await project.status()
    expect(status.services.find((service) => service.name === 'compound')?.state).toBe('running')
  })

  it(".devenv/spec.json, which holds the envfile's passwords, is 0600; .devenv is 0700 (0711 as root: services that refuse root pass through)", () => {
    const spec = path.join(project.root, '.devenv', 'spec.json')
    expect(readFileSync(spec, 'utf8')).toContain('hunter2-at-rest')
    expect((statSync(spec).mode & 0o777).toString(8)).toBe('600')
    expect((statSync(path.dirname(spec)).mode & 0o777).toString(8)).toBe(process.getuid?.() === 0 ? '711' : '700')
  })

  it('a value from .env holding $( ), backticks, ; and quotes is printed, not run', async () => {
    await eventually(() => log('injected').includes(' out A'))
    // the "out" line is what the command printed; the "started" line only quotes the command line
    expect(log('injected')).toContain(` out A ${hostile} B\n`)
    expect(existsSync(marker)).toBe(false)
  })
})
