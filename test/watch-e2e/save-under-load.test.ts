// Saving a file must not take the site down: www1 and www2 watch one folder behind the lb; a save
// restarts them one after the other (each ready before the next stops), and the lb hears of each
// restart from the supervisor, so a client hammering the lb meanwhile sees no failed request.
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LoadClient } from './load-client.js'
import { waitFor, WatchProject } from './project.js'

const SAVES = 5

describe('saving under load through the balancer', () => {
  let project: WatchProject
  let url: string
  let source: string

  beforeAll(async () => {
    project = new WatchProject('watch-rolling')
    source = readFileSync(project.file('app/server.cjs'), 'utf8')
    const up = await project.run(['up', '--no-hosts'], 60_000)
    if (up.exitCode !== 0) throw new Error(`up failed: ${up.stderr}`)
    const lb = await project.service('lb')
    url = `http://${lb.address}:${lb.ports[0]!.bound ?? 8000}/`
  })
  afterAll(async () => {
    await project?.cleanup()
  })

  it(`${SAVES} saves while a client sends requests through the lb: not one request fails`, async () => {
    const seen = new Map<string, Set<string>>()
    const client = new LoadClient(url, (body) => {
      const match = /^(version \d+) from (\w+)$/.exec(body)
      if (match) seen.set(match[1]!, (seen.get(match[1]!) ?? new Set()).add(match[2]!))
    })
    try {
      await waitFor('both backends to answer through the lb', () => seen.get('version 0')?.size === 2, 15_000)
      for (let version = 1; version <= SAVES; version++) {
        project.save('app/server.cjs', source.replace("'version 0'", `'version ${version}'`))
        await waitFor(
          `both backends to answer version ${version}`,
          () => seen.get(`version ${version}`)?.size === 2,
          20_000,
        )
      }
    } finally {
      await client.stop()
    }
    expect(client.report.failures).toEqual([])
    expect(client.report.requests).toBeGreaterThan(100)
    // Each backend restarted once per save, one after the other.
    for (const name of ['www1', 'www2'])
      expect(await project.notes(name, 'restarted after the change')).toHaveLength(SAVES)
    const lbLines = (await project.logs('lb')).map((line) => line.text)
    expect(lbLines.filter((text) => text.includes('is up: devenv reports it ready')).length).toBeGreaterThanOrEqual(
      2 * SAVES,
    )
  }, 180_000)

  it('a save that breaks the app fails the first backend only: the other serves on, and the fix brings both back', async () => {
    const answers: string[] = []
    const client = new LoadClient(url, (body) => answers.push(body))
    try {
      project.save(
        'app/server.cjs',
        source.replace("const http = require('node:http')", "const http = require('node:htttp')"),
      )
      const first = await waitFor(
        'a backend to fail with the broken save',
        async () => {
          const failed = await Promise.all(['www1', 'www2'].map((name) => project.service(name)))
          return failed.find((entry) => entry.state === 'failed')
        },
        20_000,
      )
      expect(first.message).toContain('No such built-in module: node:htttp')
      const other = first.name === 'www1' ? 'www2' : 'www1'
      await waitFor(
        `${other} to say it was not restarted`,
        async () => (await project.notes(other, 'not restarted:')).length === 1,
        10_000,
      )
      expect(await project.service(other)).toMatchObject({ state: 'running', health: 'healthy' })
      answers.length = 0
      await waitFor('answers through the lb', () => answers.length >= 20, 10_000)
      expect(new Set(answers)).toEqual(new Set([`version ${SAVES} from ${other}`]))
      project.save('app/server.cjs', source.replace("'version 0'", "'version fixed'"))
      await waitFor(
        'both backends to answer the fixed version',
        () =>
          answers.filter((body) => body.startsWith('version fixed')).length > 0 &&
          new Set(answers.filter((body) => body.startsWith('version fixed'))).size === 2,
        20_000,
      )
    } finally {
      await client.stop()
    }
    // On failure, what the balancer said of its backends tells which one it took out and why.
    const balancer = client.report.failures.length
      ? (await project.logs('lb'))
          .map((line) => line.text)
          .filter((text) => / is (up|down)|is down/.test(text) && !/no backend is up/.test(text))
      : []
    expect(client.report.failures, balancer.slice(-12).join('\n')).toEqual([])
  }, 120_000)
})
