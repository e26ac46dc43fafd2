import { createHash } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import path from 'node:path'
import forge from 'node-forge'
import { DevenvError } from '../errors.js'
import { writeFileAtomic } from '../state/index.js'
import { withFileLock } from '../state/index.js'
import { ensureCa, type LocalCa } from './ca.js'
import { generateRsaKeys, randomSerial } from './keys.js'
import { isWithin } from './name-constraints.js'

/** Browsers refuse leaf certificates valid for longer than this (Apple: 825 days). */
const LEAF_DAYS = 825
/** Issue a fresh certificate when the cached one expires sooner than this. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

export interface IssueOptions {
  /** DNS names (wildcards allowed) and IP addresses the certificate is for. */
  names: string[]
  /** Folder for the cached key and certificate (one subfolder per set of names). */
  cacheDir: string
  /** Machine home holding the CA (default: machineHome()). */
  home?: string
}

export interface IssuedCertificate {
  certificateFile: string
  privateKeyFile: string
  certificatePem: string
  privateKeyPem: string
  /** The CA certificate that signed it. */
  caFile: string
  names: string[]
  notAfter: Date
  /** False when a cached certificate was still good. */
  issued: boolean
}

/** A key and certificate for `names`, signed by the machine's CA; reused while still valid for the same CA. */
export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const names = [...new Set(options.names.map((name) => name.toLowerCase()))].sort()
  if (names.length === 0) throw new DevenvError('TLS', 'a certificate needs at least one hostname or address')
  const bad = names.filter((name) => !isIP(name) && !DNS_NAME.test(name))
  if (bad.length)
    throw new DevenvError(
      'TLS',
      `cannot issue a certificate for ${bad.map((name) => `"${name}"`).join(', ')}: not a hostname or an IP address`,
    )
  const ca = await ensureCa(options.home)
  const outside = names.filter((name) => !isWithin(name, ca.permittedDns ?? []))
  if (outside.length) {
    throw new DevenvError(
      'TLS',
      `the local certificate authority may not sign for ${outside.map((name) => `"${name}"`).join(', ')}`,
      {
        hint: 'It signs only for special-use names (.test, .example, .invalid, .localhost, .internal, .home.arpa), localhost, loopback addresses and the names allowed with `devenv hosts allow NAME`.',
      },
    )
  }
  const folder = path.join(options.cacheDir, createHash('sha256').update(names.join(',')).digest('hex').slice(0, 16))
  const files = { certificate: path.join(folder, 'cert.pem'), privateKey: path.join(folder, 'key.pem') }
  return withFileLock(path.join(folder, 'issue'), () => {
    const cached = readCached(files, ca)
    if (cached) return { ...cached, caFile: ca.paths.certificate, names, issued: false }
    const fresh = sign(names, ca)
    writeFileAtomic(files.privateKey, fresh.privateKeyPem, 0o600)
    writeFileAtomic(files.certificate, fresh.certificatePem, 0o644)
    return {
      ...fresh,
      certificateFile: files.certificate,
      privateKeyFile: files.privateKey,
      caFile: ca.paths.certificate,
      names,
      issued: true,
    }
  })
}

type Cached = Pick<
  IssuedCertificate,
  'certificateFile' | 'privateKeyFile' | 'certificatePem' | 'privateKeyPem' | 'notAfter'
>

function readCached(files: { certificate: string; privateKey: string }, ca: LocalCa): Cached | undefined {
  if (!existsSync(files.certificate) || !existsSync(files.privateKey)) return undefined
  try {
    const certificatePem = readFileSync(files.certificate, 'utf8')
    const privateKeyPem = readFileSync(files.privateKey, 'utf8')
    const certificate = forge.pki.certificateFromPem(certificatePem)
    const privateKey = forge.pki.privateKeyFromPem(privateKeyPem) as forge.pki.rsa.PrivateKey
    const publicKey = certificate.publicKey as forge.pki.rsa.PublicKey
    const matchesKey = publicKey.n.equals(privateKey.n)
    // A CA made again (its folder removed) no longer vouches for certificates of the old one.
    const signedByCa = ca.certificate.verify(certificate)
    const fresh = certificate.validity.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS
    if (!matchesKey || !signedByCa || !fresh) return undefined
    return {
      certificateFile: files.certificate,
      privateKeyFile: files.privateKey,
      certificatePem,
      privateKeyPem,
      notAfter: certificate.validity.notAfter,
    }
  } catch {
    return undefined
  }
}

function sign(names: string[], ca: LocalCa): { certificatePem: string; privateKeyPem: string; notAfter: Date } {
  const keys = generateRsaKeys()
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = keys.publicKey
  certificate.serialNumber = randomSerial()
  const now = Date.now()
  certificate.validity.notBefore = new Date(now - 60 * 60 * 1000)
  certificate.validity.notAfter = new Date(now + LEAF_DAYS * 24 * 60 * 60 * 1000)
  const commonName = names.find((name) => !isIP(name)) ?? names[0]!
  certificate.setSubject([
    { name: 'commonName', value: commonName },
    { name: 'organizationName', value: 'devenv' },
  ])
  certificate.setIssuer(ca.certificate.subject.attributes)
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.certificate.generateSubjectKeyIdentifier().getBytes() },
  ])
  certificate.sign(ca.privateKey, forge.md.sha256.create())
  return {
    certificatePem: forge.pki.certificateToPem(certificate),
    privateKeyPem: forge.pki.privateKeyToPem(keys.privateKey),
    notAfter: certificate.validity.notAfter,
  }
}
