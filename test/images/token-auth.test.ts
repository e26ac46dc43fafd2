import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cleanSandboxes, devenv, sandbox } from '../cli/run-cli.js'
import { buildImage, removeLayout } from './build-images.js'
import { HAVE_IMAGE_TOOLS, startRegistry, type LocalRegistry } from './registry.js'
import { startTokenService, type TokenService } from './token-service.js'
import { execa } from 'execa'

describe.skipIf(!HAVE_IMAGE_TOOLS)('a registry that asks for bearer tokens', () => {
  let tokens: TokenService
  let registry: LocalRegistry

  beforeAll(async () => {
    tokens = await startTokenService()
    registry = await startRegistry(tokens.registryConfig('devenv-registry'))
    const layout = buildImage({ files: { 'etc/secret-word': 'swordfish\n' } })
    // Asynchronously: the token service answers from this very process.
    await execa('skopeo', [
      'copy',
      '--quiet',
      '--dest-tls-verify=false',
      '--dest-creds',
      'pusher:secret',
      `oci:${layout}:t`,
      `docker://${registry.host}/private/app:1`,
    ])
    removeLayout(layout)
  }, 60_000)

  afterAll(async () => {
    await registry?.stop()
    await tokens?.stop()
    cleanSandboxes()
  })

  it('gets an anonymous pull token from the realm the 401 names, and pulls with it', async () => {
    const before = tokens.requests.length
    const home = sandbox('devenv-images-token-')
    const pulled = await devenv(['image', 'pull', `${registry.host}/private/app:1`, '--json'], {
      env: { DEVENV_HOME: home },
      timeout: 60_000,
    })
    expect(pulled.exitCode, pulled.stdout + pulled.stderr).toBe(0)
    const asked = tokens.requests.slice(before)
    expect(asked.length).toBeGreaterThan(0)
    expect(asked[0]).toEqual({ scope: 'repository:private/app:pull', service: 'devenv-registry', basic: false })
  })

  it('sends DEVENV_REGISTRY_AUTH to the token realm, and says so when they are refused', async () => {
    const home = sandbox('devenv-images-token-')
    const refused = await devenv(['image', 'pull', `${registry.host}/private/app:1`, '--json'], {
      env: { DEVENV_HOME: home, DEVENV_REGISTRY_AUTH: 'pusher:wrong' },
      timeout: 60_000,
    })
    expect(refused.exitCode).toBe(1)
    const error = (JSON.parse(refused.stdout) as { error: { message: string; hint: string } }).error
    expect(error.message).toContain('refused access (HTTP 401)')
    expect(tokens.requests.at(-1)?.basic).toBe(true)
  })
})
