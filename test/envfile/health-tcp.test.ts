import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from '../cli/run-cli.js'

afterAll(cleanSandboxes)

describe('health: { tcp: true }', () => {
  // The schema coerces types (a port may be written "${PORT_VAR}"): true once became port 1.
  it.each([
    ['true', 3000],
    ['8080', 8080],
    ['"8080"', 8080],
  ])('tcp: %s checks port %d', async (written, port) => {
    const folder = sandbox()
    writeFileSync(
      path.join(folder, 'devenv.yaml'),
      `services:\n  app:\n    command: node s.js\n    ports: [3000, 8080]\n    health: { tcp: ${written} }\n`,
    )
    const config = await devenv(['config', '--json'], { cwd: folder })
    expect(config.exitCode, config.stderr).toBe(0)
    expect(JSON.parse(config.stdout).result.services.app.health.tcp).toBe(port)
  })
})
