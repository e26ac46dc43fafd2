import { execFileSync } from 'node:child_process'
import { createSign, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'

/**
 * A token service for docker-registry's token authentication: it signs JWTs (RS256, the
 * certificate in the x5c header) that the registry checks against the same certificate.
 * It grants pull to anonymous callers, and push only with the user and password it was given.
 */
export interface TokenService {
  realm: string
  certificate: string
  /** Every scope a token was asked for, and whether credentials came with it. */
  requests: Array<{ scope: string; service: string; basic: boolean }>
  registryConfig(service: string): string
  stop(): Promise<void>
}

const base64url = (value: Buffer | string): string => Buffer.from(value).toString('base64url')

export async function startTokenService(user = 'pusher', password = 'secret'): Promise<TokenService> {
  const folder = mkdtempSync(path.join(tmpdir(), 'devenv-token-'))
  const key = path.join(folder, 'key.pem')
  const certificate = path.join(folder, 'cert.pem')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      certificate,
      '-days',
      '1',
      '-subj',
      '/CN=devenv-test-token',
    ],
    { stdio: 'ignore' },
  )
  const keyPem = readFileSync(key, 'utf8')
  const der = readFileSync(certificate, 'utf8').replace(/-----[^-]+-----|\s+/g, '')
  const requests: TokenService['requests'] = []
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://token')
    const scope = url.searchParams.get('scope') ?? ''
    const service = url.searchParams.get('service') ?? ''
    const given = request.headers.authorization?.replace(/^Basic /, '')
    const basic = given !== undefined
    requests.push({ scope, service, basic })
    const authenticated = given === Buffer.from(`${user}:${password}`).toString('base64')
    if (basic && !authenticated) {
      response.writeHead(401).end()
      return
    }
    const [type, name, actions] = scope.split(':')
    const granted = (actions ?? '').split(',').filter((action) => action === 'pull' || authenticated)
    const now = Math.floor(Date.now() / 1000)
    const header = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', x5c: [der] }))
    const claims = base64url(
      JSON.stringify({
        iss: 'devenv-test',
        sub: authenticated ? user : '',
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access: type ? [{ type, name, actions: granted }] : [],
      }),
    )
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(keyPem)
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ token: `${header}.${claims}.${base64url(signature)}` }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
  return {
    realm,
    certificate,
    requests,
    registryConfig: (service) =>
      [
        'auth:',
        '  token:',
        `    realm: ${realm}`,
        `    service: ${service}`,
        '    issuer: devenv-test',
        `    rootcertbundle: ${certificate}`,
      ].join('\n'),
    async stop() {
      await new Promise((resolve) => server.close(resolve))
      rmSync(folder, { recursive: true, force: true })
    },
  }
}
