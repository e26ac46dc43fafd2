import { X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ensureCa, readCa } from '../../src/tls/ca.js'
import { issueCertificate } from '../../src/tls/issue.js'
import { caPaths } from '../../src/tls/paths.js'
import { changeAllowedHostname } from '../../src/names/index.js'
import { withFileLock } from '../../src/state/index.js'

describe('local certificate authority', () => {
  let home: string
  let cache: string
  beforeEach(() => {
    home = mkdtempSync(path.join(os.tmpdir(), 'devenv-tls-'))
    cache = path.join(home, 'project-cache')
  })
  afterEach(() => rmSync(home, { recursive: true, force: true }))

  it('is made once, with a 10-year CA certificate and a key only its owner reads', async () => {
    const first = await ensureCa(home)
    expect(first.created).toBe(true)
    const paths = caPaths(home)
    expect(statSync(paths.privateKey).mode & 0o777).toBe(0o600)
    const certificate = new X509Certificate(readFileSync(paths.certificate))
    expect(certificate.ca).toBe(true)
    expect(certificate.subject).toContain(`CN=devenv local CA ${os.hostname()}`)
    expect(certificate.verify(certificate.publicKey)).toBe(true)
    const years = (Date.parse(certificate.validTo) - Date.now()) / (365.25 * 24 * 3600 * 1000)
    expect(years).toBeGreaterThan(9.9)
    const second = await ensureCa(home)
    expect(second.created).toBe(false)
    expect(second.fingerprint).toBe(first.fingerprint)
  })

  it('issues certificates with DNS and IP names, signed by the CA, cached until the CA changes', async () => {
    const issued = await issueCertificate({
      names: ['www.example.test', 'example.test', '127.0.77.1'],
      cacheDir: cache,
      home,
    })
    expect(issued.issued).toBe(true)
    const certificate = new X509Certificate(issued.certificatePem)
    const ca = new X509Certificate(readFileSync(caPaths(home).certificate))
    expect(certificate.verify(ca.publicKey)).toBe(true)
    expect(certificate.checkIssued(ca)).toBe(true)
    expect(certificate.ca).toBe(false)
    expect(certificate.checkHost('www.example.test')).toBe('www.example.test')
    expect(certificate.checkHost('example.test')).toBe('example.test')
    expect(certificate.checkHost('evil.test')).toBeUndefined()
    expect(certificate.checkIP('127.0.77.1')).toBe('127.0.77.1')
    expect(statSync(issued.privateKeyFile).mode & 0o777).toBe(0o600)

    const again = await issueCertificate({
      names: ['example.test', 'www.example.test', '127.0.77.1'],
      cacheDir: cache,
      home,
    })
    expect(again.issued).toBe(false)
    expect(again.certificatePem).toBe(issued.certificatePem)

    // A new CA (the old one removed) must not keep serving certificates the old one signed.
    rmSync(caPaths(home).dir, { recursive: true })
    const renewed = await issueCertificate({
      names: ['www.example.test', 'example.test', '127.0.77.1'],
      cacheDir: cache,
      home,
    })
    expect(renewed.issued).toBe(true)
    expect(
      new X509Certificate(renewed.certificatePem).verify(
        new X509Certificate(readFileSync(caPaths(home).certificate)).publicKey,
      ),
    ).toBe(true)
  })

  it('reuses a checked certificate from its verdict, and checks again when anything it rests on changed', async () => {
    const names = ['www.example.test', '127.0.77.1']
    const issued = await issueCertificate({ names, cacheDir: cache, home })
    const verdict = path.join(path.dirname(issued.certificateFile), 'verified.json')
    expect(JSON.parse(readFileSync(verdict, 'utf8'))).toMatchObject({ permittedDns: expect.arrayContaining(['test']) })
    const reused = await issueCertificate({ names, cacheDir: cache, home })
    expect(reused).toMatchObject({ issued: false, certificatePem: issued.certificatePem })

    // Another certificate put in its place does not ride on the old verdict: it is checked, found
    // not signed by this CA, and replaced.
    const stranger = await issueCertificate({
      names,
      cacheDir: path.join(home, 'other'),
      home: path.join(home, 'other-home'),
    })
    writeFileSync(issued.certificateFile, stranger.certificatePem)
    writeFileSync(issued.privateKeyFile, stranger.privateKeyPem)
    const replaced = await issueCertificate({ names, cacheDir: cache, home })
    expect(replaced.issued).toBe(true)
    expect(
      new X509Certificate(replaced.certificatePem).verify(
        new X509Certificate(readFileSync(caPaths(home).certificate)).publicKey,
      ),
    ).toBe(true)

    // A name allowed since makes the CA's constraints out of date: the CA is made again, and so is the certificate.
    await changeAllowedHostname('dev.acme.corp', true, home)
    const after = await issueCertificate({ names, cacheDir: cache, home })
    expect(after.issued).toBe(true)
  })

  it('refuses names that are not hostnames and reports a broken CA folder', async () => {
    await expect(issueCertificate({ names: ['bad name!'], cacheDir: cache, home })).rejects.toMatchObject({
      code: 'TLS',
    })
    await ensureCa(home)
    writeFileSync(caPaths(home).privateKey, 'not a key', { mode: 0o644 })
    expect(() => readCa(caPaths(home))).toThrow(/cannot read the local certificate authority/)
    rmSync(caPaths(home).privateKey)
    expect(() => readCa(caPaths(home))).toThrow(/incomplete: .*ca-key\.pem is missing/)
  })

  it('makes the CA again when its making was killed between the key and the certificate', async () => {
    const paths = caPaths(home)
    const first = await ensureCa(home)
    rmSync(paths.certificate)
    const again = await ensureCa(home)
    expect(again.created).toBe(true)
    expect(again.fingerprint).not.toBe(first.fingerprint)
    expect(readFileSync(paths.privateKey, 'utf8')).toBe(again.privateKeyPem)
  })

  it('waits for another maker between its two writes, and reads what it made', async () => {
    const paths = caPaths(home)
    const made = await ensureCa(home)
    const certificatePem = readFileSync(paths.certificate, 'utf8')
    rmSync(paths.certificate)
    let reader: Promise<Awaited<ReturnType<typeof ensureCa>>> | undefined
    await withFileLock(path.join(paths.dir, 'ca'), async () => {
      // The maker holds the lock with only the key written, as createCa does for a moment.
      reader = ensureCa(home)
      await new Promise((resolve) => setTimeout(resolve, 300))
      writeFileSync(paths.certificate, certificatePem)
    })
    const read = await reader!
    expect(read.created).toBe(false)
    expect(read.fingerprint).toBe(made.fingerprint)
  })
})
