import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import forge from 'node-forge'
import { DevenvError } from '../errors.js'
import { writeFileAtomic } from '../state/atomic.js'
import { withFileLock } from '../state/lock.js'
import { generateRsaKeys, randomSerial, sha256Fingerprint } from './keys.js'
import { caPaths, type CaPaths } from './paths.js'

const CA_YEARS = 10

export interface LocalCa {
  paths: CaPaths
  certificatePem: string
  certificate: forge.pki.Certificate
  privateKey: forge.pki.rsa.PrivateKey
  /** SHA-256 of the certificate, colon-separated hex, as browsers show it. */
  fingerprint: string
  subject: string
  notAfter: Date
  /** True when this call made it. */
  created: boolean
}

/** The machine's CA, made on first use. Safe against concurrent callers (one makes it, the others read it). */
export async function ensureCa(home?: string): Promise<LocalCa> {
  const paths = caPaths(home)
  const existing = readCa(paths)
  if (existing) return existing
  return withFileLock(path.join(paths.dir, 'ca'), () => readCa(paths) ?? createCa(paths))
}

/** The CA if it exists; undefined when it was never made. Errors when it is there but unusable. */
export function readCa(paths: CaPaths = caPaths()): LocalCa | undefined {
  const hasCertificate = existsSync(paths.certificate)
  const hasKey = existsSync(paths.privateKey)
  if (!hasCertificate && !hasKey) return undefined
  if (!hasCertificate || !hasKey) {
    throw new DevenvError('TLS', `the local certificate authority in ${paths.dir} is incomplete: ${hasCertificate ? paths.privateKey : paths.certificate} is missing`, {
      hint: `Remove ${paths.dir} to make a new one (certificates it issued, and any trust you gave it, must then be renewed).`,
    })
  }
  // The key must stay readable by its owner only, whatever copied it here.
  if ((statSync(paths.privateKey).mode & 0o077) !== 0) chmodSync(paths.privateKey, 0o600)
  let certificate: forge.pki.Certificate
  let privateKey: forge.pki.rsa.PrivateKey
  let certificatePem: string
  try {
    certificatePem = readFileSync(paths.certificate, 'utf8')
    certificate = forge.pki.certificateFromPem(certificatePem)
    privateKey = forge.pki.privateKeyFromPem(readFileSync(paths.privateKey, 'utf8')) as forge.pki.rsa.PrivateKey
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new DevenvError('TLS', `cannot read the local certificate authority in ${paths.dir}: permission denied (it belongs to another user)`, {
        hint: 'Run devenv as the user who made it, or set DEVENV_HOME to a folder of your own.',
      })
    }
    throw new DevenvError('TLS', `cannot read the local certificate authority in ${paths.dir}: ${(error as Error).message}`, {
      hint: `Remove ${paths.dir} to make a new one.`,
    })
  }
  return describe(paths, certificatePem, certificate, privateKey, false)
}

function createCa(paths: CaPaths): LocalCa {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 })
  const keys = generateRsaKeys()
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = keys.publicKey
  certificate.serialNumber = randomSerial()
  const now = new Date()
  certificate.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000)
  certificate.validity.notAfter = new Date(now)
  certificate.validity.notAfter.setFullYear(now.getFullYear() + CA_YEARS)
  const name = [
    { name: 'commonName', value: `devenv local CA ${os.hostname()}` },
    { name: 'organizationName', value: 'devenv' },
    { shortName: 'OU', value: `${os.userInfo().username}@${os.hostname()}` },
  ]
  certificate.setSubject(name)
  certificate.setIssuer(name)
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  certificate.sign(keys.privateKey, forge.md.sha256.create())
  const certificatePem = forge.pki.certificateToPem(certificate)
  // The key first: a certificate without its key would read as a broken CA.
  writeFileAtomic(paths.privateKey, forge.pki.privateKeyToPem(keys.privateKey), 0o600)
  writeFileAtomic(paths.certificate, certificatePem, 0o644)
  return describe(paths, certificatePem, certificate, keys.privateKey, true)
}

function describe(paths: CaPaths, certificatePem: string, certificate: forge.pki.Certificate, privateKey: forge.pki.rsa.PrivateKey, created: boolean): LocalCa {
  const commonName = certificate.subject.getField('CN') as { value: string } | null
  return {
    paths,
    certificatePem,
    certificate,
    privateKey,
    fingerprint: sha256Fingerprint(certificate),
    subject: commonName?.value ?? '',
    notAfter: certificate.validity.notAfter,
    created,
  }
}
