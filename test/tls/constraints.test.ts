import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'
import forge from 'node-forge'
import { afterAll, describe, expect, it } from 'vitest'
import { issueCertificate } from '../../src/tls/issue.js'
import { generateRsaKeys, randomSerial } from '../../src/tls/keys.js'
import { nameConstraintsExtension } from '../../src/tls/name-constraints.js'
import { wantedDnsSubtrees } from '../../src/tls/name-policy.js'
import { cleanSandboxes, devenv, sandbox } from '../cli/run-cli.js'

afterAll(cleanSandboxes)

interface CaFiles {
  certificatePem: string
  certificate: forge.pki.Certificate
  privateKey: forge.pki.rsa.PrivateKey
}

function readCaFiles(home: string): CaFiles {
  const certificatePem = readFileSync(path.join(home, 'tls', 'ca.pem'), 'utf8')
  return {
    certificatePem,
    certificate: forge.pki.certificateFromPem(certificatePem),
    privateKey: forge.pki.privateKeyFromPem(
      readFileSync(path.join(home, 'tls', 'ca-key.pem'), 'utf8'),
    ) as forge.pki.rsa.PrivateKey,
  }
}

/** A key pair as forge holds it: these tests sign as anyone could, with forge itself. */
async function forgeKeys(): Promise<forge.pki.rsa.KeyPair> {
  const { privateKeyPem, publicKey } = await generateRsaKeys()
  return { privateKey: forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey, publicKey }
}

/** A CA as an older devenv left it in `home`: self-signed with `name` and `extensions`. */
async function writeOldCa(
  home: string,
  name: forge.pki.CertificateField[],
  extensions: object[],
): Promise<forge.pki.rsa.KeyPair> {
  const keys = await forgeKeys()
  const old = forge.pki.createCertificate()
  old.publicKey = keys.publicKey
  old.serialNumber = randomSerial()
  old.validity.notBefore = new Date(Date.now() - 3_600_000)
  old.validity.notAfter = new Date(Date.now() + 365 * 86_400_000)
  old.setSubject(name)
  old.setIssuer(name)
  old.setExtensions(extensions)
  old.sign(keys.privateKey, forge.md.sha256.create())
  mkdirSync(path.join(home, 'tls'), { recursive: true, mode: 0o700 })
  writeFileSync(path.join(home, 'tls', 'ca.pem'), forge.pki.certificateToPem(old))
  writeFileSync(path.join(home, 'tls', 'ca-key.pem'), forge.pki.privateKeyToPem(keys.privateKey), { mode: 0o600 })
  return keys
}

/** What someone holding the CA's key could sign: a leaf for any name, bypassing devenv entirely. */
async function signWithStolenKey(ca: CaFiles, name: string): Promise<{ cert: string; key: string }> {
  const keys = await forgeKeys()
  const leaf = forge.pki.createCertificate()
  leaf.publicKey = keys.publicKey
  leaf.serialNumber = randomSerial()
  leaf.validity.notBefore = new Date(Date.now() - 3_600_000)
  leaf.validity.notAfter = new Date(Date.now() + 86_400_000)
  leaf.setSubject([{ name: 'commonName', value: name }])
  leaf.setIssuer(ca.certificate.subject.attributes)
  leaf.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'subjectAltName', altNames: [{ type: 2, value: name }] },
  ])
  leaf.sign(ca.privateKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(leaf), key: forge.pki.privateKeyToPem(keys.privateKey) }
}

/** A TLS handshake as any OpenSSL-based client makes it, trusting the CA: 'ok' or the verification error. */
async function handshake(caPem: string, name: string, served: { cert: string; key: string }): Promise<string> {
  const server = tls.createServer(served, (socket) => socket.end())
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  try {
    return await new Promise<string>((resolve) => {
      const socket = tls.connect({ host: '127.0.0.1', port, servername: name, ca: [caPem] }, () => {
        resolve('ok')
        socket.destroy()
      })
      socket.on('error', (error) => resolve(error.message))
    })
  } finally {
    server.close()
  }
}

function constraintsOf(certificate: forge.pki.Certificate): { critical: boolean; text: string } | undefined {
  const extension = (certificate.extensions as Array<{ id: string; critical?: boolean; value: string }>).find(
    (candidate) => candidate.id === '2.5.29.30',
  )
  return extension ? { critical: extension.critical === true, text: extension.value } : undefined
}

describe('the local CA carries X.509 name constraints', () => {
  it('critical, permitting the special-use names, localhost and 127.0.0.0/8: even its stolen key cannot sign for github.com', async () => {
    const home = sandbox()
    expect((await devenv(['tls', 'ca', '--json'], { env: { DEVENV_HOME: home } })).exitCode).toBe(0)
    const ca = readCaFiles(home)
    const constraints = constraintsOf(ca.certificate)
    expect(constraints?.critical).toBe(true)
    for (const name of ['test', 'example', 'invalid', 'localhost', 'internal', 'home.arpa'])
      expect(constraints?.text).toContain(name)
    expect(await handshake(ca.certificatePem, 'github.com', await signWithStolenKey(ca, 'github.com'))).toMatch(
      /permitted subtree violation/,
    )
    expect(await handshake(ca.certificatePem, 'www.shop.test', await signWithStolenKey(ca, 'www.shop.test'))).toBe('ok')
    // devenv itself refuses before signing
    await expect(issueCertificate({ names: ['github.com'], cacheDir: path.join(home, 'certs'), home })).rejects.toThrow(
      /may not sign for "github\.com"/,
    )
  })

  it('a CA made without constraints (older devenv) is made again, with a message saying why and to trust it again', async () => {
    const home = sandbox()
    const keys = await writeOldCa(
      home,
      [{ name: 'commonName', value: 'devenv local CA old' }],
      [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, critical: true },
      ],
    )
    const result = await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toMatch(
      /made a new local certificate authority .*: it had no name constraints, so it could sign for any site/,
    )
    expect(result.stderr).toMatch(/run `devenv tls trust` again/)
    const ca = readCaFiles(home)
    expect(constraintsOf(ca.certificate)?.critical).toBe(true)
    expect(ca.privateKey.n.equals(keys.privateKey.n)).toBe(false)
    // and only once
    expect((await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })).stderr).not.toMatch(/made a new/)
  })

  it('a CA whose name has @ in a PrintableString (devenv before Dec 1: Chrome refused it) is made again', async () => {
    const home = sandbox()
    // forge's default for these attributes is PrintableString, as devenv's CA had them.
    const name = [
      { name: 'commonName', value: 'devenv local CA old' },
      { shortName: 'OU', value: 'root@vm' },
    ]
    await writeOldCa(home, name, [
      { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
      { name: 'keyUsage', keyCertSign: true, critical: true },
      nameConstraintsExtension(wantedDnsSubtrees(home)),
    ])
    const result = await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })
    expect(result.exitCode).toBe(0)
    expect(result.stderr).toMatch(/made a new local certificate authority .*PrintableString .*Chrome refused/)
    const made = readCaFiles(home).certificate
    expect(made.subject.getField('OU')).toMatchObject({ valueTagClass: forge.asn1.Type.UTF8 })
    expect((await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })).stderr).not.toMatch(/made a new/)
  })

  it('a name allowed with `devenv hosts allow` is added by making the CA again; then certificates for it verify', async () => {
    const home = sandbox()
    expect((await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })).exitCode).toBe(0)
    expect((await devenv(['hosts', 'allow', 'app.mycompany.dev'], { env: { DEVENV_HOME: home } })).exitCode).toBe(0)
    const again = await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })
    expect(again.stderr).toMatch(/its name constraints leave out app\.mycompany\.dev, allowed since it was made/)
    const issued = await issueCertificate({ names: ['app.mycompany.dev'], cacheDir: path.join(home, 'certs'), home })
    const ca = readCaFiles(home)
    expect(
      await handshake(ca.certificatePem, 'app.mycompany.dev', {
        cert: issued.certificatePem,
        key: issued.privateKeyPem,
      }),
    ).toBe('ok')
    expect(await handshake(ca.certificatePem, 'github.com', await signWithStolenKey(ca, 'github.com'))).toMatch(
      /permitted subtree violation/,
    )
    // consent taken back: the CA may no longer sign for it
    expect((await devenv(['hosts', 'disallow', 'app.mycompany.dev'], { env: { DEVENV_HOME: home } })).exitCode).toBe(0)
    expect((await devenv(['tls', 'ca'], { env: { DEVENV_HOME: home } })).stderr).toMatch(
      /still permit app\.mycompany\.dev, no longer allowed/,
    )
    const narrowed = readCaFiles(home)
    expect(
      await handshake(
        narrowed.certificatePem,
        'app.mycompany.dev',
        await signWithStolenKey(narrowed, 'app.mycompany.dev'),
      ),
    ).toMatch(/permitted subtree violation/)
  })
})
