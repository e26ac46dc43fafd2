import { describe, expect, it } from 'vitest'
import { parseEnvfile } from '../../../src/envfile/index.js'
import {
  checkNames,
  startLayers,
  stopDependentsFirst,
  stopLayers,
  withDependencies,
  withDependents,
} from '../../../src/spec/index.js'
import { DevenvError } from '../../../src/errors.js'

// lb → www1, www2 → psql; mail alone; worker → psql (condition started)
const spec = parseEnvfile(
  '/nonexistent/devenv-graph/devenv.yaml',
  `
name: graph
services:
  lb: { command: "true", depends_on: [www1, www2] }
  www1: { command: "true", depends_on: [psql] }
  www2: { command: "true", depends_on: [psql] }
  psql: { command: "true" }
  mail: { command: "true" }
  worker: { command: "true", depends_on: { psql: { condition: started } } }
`,
  { variables: {} },
)
const sorted = (layers: string[][]): string[][] => layers.map((layer) => [...layer].sort())

describe('dependency graph', () => {
  it('start layers: each depends only on earlier ones; independent services share a layer', () => {
    expect(sorted(startLayers(spec, Object.keys(spec.services)))).toEqual([
      ['mail', 'psql'],
      ['worker', 'www1', 'www2'],
      ['lb'],
    ])
  })

  it('within a start layer, the service with the longest chain of dependents comes first', () => {
    // psql → www1/worker → lb is the chain the whole start waits on; mail has none, and comes last
    // even though the envfile names it first.
    const ordered = parseEnvfile(
      '/nonexistent/devenv-graph/devenv.yaml',
      `
name: graph
services:
  mail: { command: "true" }
  cache: { command: "true" }
  worker: { command: "true", depends_on: [cache] }
  psql: { command: "true" }
  www1: { command: "true", depends_on: [psql, cache] }
  lb: { command: "true", depends_on: [www1] }
`,
      { variables: {} },
    )
    expect(startLayers(ordered, Object.keys(ordered.services))).toEqual([
      ['cache', 'psql', 'mail'],
      ['www1', 'worker'],
      ['lb'],
    ])
  })

  it('stop layers are the reverse: dependents first', () => {
    expect(sorted(stopLayers(spec, Object.keys(spec.services)))).toEqual([
      ['lb'],
      ['worker', 'www1', 'www2'],
      ['mail', 'psql'],
    ])
  })

  it('stopDependentsFirst stops each service once its dependents are done, and no later', async () => {
    const events: string[] = []
    const lingers: Record<string, number> = { lb: 40, www1: 10, www2: 30 }
    const failures = await stopDependentsFirst(spec, Object.keys(spec.services), async (name) => {
      events.push(`${name} asked`)
      await new Promise((resolve) => setTimeout(resolve, lingers[name] ?? 0))
      events.push(`${name} done`)
      if (name === 'www2') throw new Error('www2 did not stop cleanly')
    })
    const at = (event: string): number => events.indexOf(event)
    expect(events).toHaveLength(12)
    expect(at('www1 asked')).toBeGreaterThan(at('lb done'))
    expect(at('psql asked')).toBeGreaterThan(Math.max(at('www1 done'), at('www2 done'), at('worker done')))
    // Nothing depends on mail: it does not wait behind lb's 40 ms; a failed stop (www2) holds nothing back.
    expect(at('mail asked')).toBeLessThan(at('lb done'))
    expect(failures).toEqual([new Error('www2 did not stop cleanly')])
  })

  it('withDependencies adds what the named services need, transitively, and only that', () => {
    expect(withDependencies(spec, ['lb']).sort()).toEqual(['lb', 'psql', 'www1', 'www2'])
    expect(withDependencies(spec, ['www1'])).toEqual(
      ['www1', 'psql'].sort((a, b) => Object.keys(spec.services).indexOf(a) - Object.keys(spec.services).indexOf(b)),
    )
    expect(withDependencies(spec, []).length).toBe(6)
  })

  it('withDependents adds what must stop with the named services', () => {
    expect(withDependents(spec, ['psql']).sort()).toEqual(['lb', 'psql', 'worker', 'www1', 'www2'])
    expect(withDependents(spec, ['mail'])).toEqual(['mail'])
  })

  it('layers of a subset ignore dependencies outside it', () => {
    expect(sorted(startLayers(spec, ['lb', 'mail']))).toEqual([['lb', 'mail']])
  })

  it('an unknown name is a usage error with a suggestion', () => {
    let caught: unknown
    try {
      checkNames(spec, ['www3'])
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(DevenvError)
    expect((caught as DevenvError).code).toBe('USAGE')
    expect((caught as DevenvError).exitCode).toBe(2)
    expect((caught as DevenvError).message).toMatch(/www3.*did you mean www[12]/)
    expect(() => withDependencies(spec, ['lbb'])).toThrow(/did you mean lb/)
  })

  it('a cycle (which the envfile loader refuses earlier) is still refused here rather than looping', () => {
    const cyclic = structuredClone(spec)
    cyclic.services.psql!.dependsOn = [{ service: 'lb', condition: 'healthy' }]
    expect(() => startLayers(cyclic, Object.keys(cyclic.services))).toThrow(/cycle/)
  })
})
