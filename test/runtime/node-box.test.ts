// What the node box gives an app besides `node`: devenv's pg, built for Node, and the project's
// hostnames through a preloaded lookup, for CommonJS apps and ES modules alike.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { projectsOfEachTest, REPO, service } from './helpers.js'

interface Facts {
  pg?: string
  pgVersion?: string
  undici?: boolean
  other: string
}

describe('the node box', () => {
  const { open } = projectsOfEachTest()

  it("gives apps its own pg, which loads no fetch client, and resolves the project's hostnames", async () => {
    const project = open('runtime-node-box')
    const up = await project.run(['up', '--no-hosts'])
    expect(up.exitCode, up.stderr).toBe(0)
    const status = await project.status()
    const facts = (name: string): Facts =>
      JSON.parse(
        readFileSync(path.join(project.root, '.devenv', 'services', name, 'data', 'facts.json'), 'utf8'),
      ) as Facts
    const cjs = facts('cjs')
    expect(cjs.pg).toBe(path.join(REPO, 'dist', 'boxes', 'node', 'modules', 'pg', 'index.js'))
    const shipped = JSON.parse(readFileSync(path.join(REPO, 'node_modules', 'pg', 'package.json'), 'utf8')) as {
      version: string
    }
    expect(cjs.pgVersion).toBe(shipped.version)
    // pg's check for Cloudflare Workers builds a fetch Response: on Node 20 that loads undici, ~30 ms.
    expect(cjs.undici).toBe(false)
    expect(cjs.other).toBe(service(status, 'esm').address)
    expect(facts('esm').other).toBe(service(status, 'cjs').address)
  })
})
