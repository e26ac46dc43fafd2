import { createPrivateKey } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import forge from 'node-forge'
import { DevenvError } from '../errors.js'
import { writeFileAtomic } from '../state/index.js'
import { withFileLock } from '../state/index.js'
import { generateRsaKeys, randomSerial, sha256Fingerprint } from './keys.js'
import { subjectWellFormed, UTF8_STRING } from './name-strings.js'
import { signForKey } from './signing.js'
import { nameConstraintsExtension, permittedDnsSubtrees } from './name-constraints.js'
import { wantedDnsSubtrees } from './name-policy.js'
import { caPaths, type CaPaths } from './paths.js'

const CA_YEARS = 10

export interface LocalCa {
  paths: CaPaths
  certificatePem: string
  certificate: forge.pki.Certificate
  /** PKCS#1 PEM: what signs (natively, src/tls/signing.ts). */
  privateKeyPem: string
  /** SHA-256 of the certificate, colon-separated hex, as browsers show it. */
  fingerprint: string
  subject: string
  notAfter: Date
  /** True when this call made it. */
  created: boolean
  /** The DNS names (and their subdomains) it may sign for; undefined for a CA made before name constraints. */
  permittedDns: string[] | undefined
  /** Why an existing CA was made again, when this call did. */
  replaced?: string
}

/**
 * The machine's CA, made on first use. Safe against concurrent callers (one makes it, the others
 * read it). A CA without name constraints (made by an older devenv), or whose constraints leave
 * out a name this machine now allows, is made again: a CA that can sign for anything is what a
 * stolen key must never be.
 */
export async function ensureCa(home?: string): Promise<LocalCa> {
  const paths = caPaths(home)
  const wanted = wantedDnsSubtrees(home)
  // Outside the lock, a key without its certificate is another process between createCa's two
  // writes: wait for it under the lock rather than call the CA broken.
  const existing = keyWithoutCertificate(paths) ? undefined : readCa(paths)
  if (existing && whyRemake(existing, wanted) === undefined) return existing
  return withFileLock(path.join(paths.dir, 'ca'), async () => {
    // Under the lock, it is a creation killed between those writes. Nothing can have been issued
    // from a CA that never had a certificate, so making it again loses nothing.
    const current = keyWithoutCertificate(paths) ? undefined : readCa(paths)
    if (!current) return createCa(paths, wanted)
    const reason = whyRemake(current, wanted)
    if (reason === undefined) return current
    const made = await createCa(paths, wanted)
    process.stderr.write(
      `devenv: made a new local certificate authority in ${paths.dir}: ${reason}. The new one may sign only for ${wanted.map((name) => `*.${name}`).join(', ')} and 127.0.0.0/8. ` +
        'Certificates are issued again from it; run `devenv tls trust` again to trust it, and remove the old "devenv local CA" from your trust stores.\n',
    )
    return { ...made, replaced: reason }
  })
}

function keyWithoutCertificate(paths: CaPaths): boolean {
  return existsSync(paths.privateKey) && !existsSync(paths.certificate)
}

/** Why the CA must be made again: its constraints are not exactly what this machine allows now (too wide either way is wrong), or its name is one Chrome refuses; undefined when neither. */
function whyRemake(ca: LocalCa, wanted: readonly string[]): string | undefined {
  if (ca.permittedDns === undefined) return 'it had no name constraints, so it could sign for any site'
  if (!subjectWellFormed(ca.certificate))
    return 'its name held characters a PrintableString may not (such as @), so Chrome refused every certificate it signed'
  const missing = wanted.filter((name) => !ca.permittedDns!.includes(name))
  if (missing.length > 0) return `its name constraints leave out ${missing.join(', ')}, allowed since it was made`
  const extra = ca.permittedDns.filter((name) => !wanted.includes(name))
  if (extra.length > 0) return `its name constraints still permit ${extra.join(', ')}, no longer allowed`
  return undefined
}

/** The CA if it exists; undefined when it was never made. Errors when it is there but unusable. */
export function readCa(paths: CaPaths = caPaths()): LocalCa | undefined {
  const hasCertificate = existsSync(paths.certificate)
  const hasKey = existsSync(paths.privateKey)
  if (!hasCertificate && !hasKey) return undefined
  if (!hasCertificate || !hasKey) {
    throw new DevenvError(
      'TLS',
      `the local certificate authority in ${paths.dir} is incomplete: ${hasCertificate ? paths.privateKey : paths.certificate} is missing`,
      {
        hint: `Remove ${paths.dir} to make a new one (certificates it issued, and any trust you gave it, must then be renewed).`,
      },
    )
  }
  // The key must stay readable by its owner only, whatever copied it here.
  if ((statSync(paths.privateKey).mode & 0o077) !== 0) chmodSync(paths.privateKey, 0o600)
  let certificate: forge.pki.Certificate
  let privateKeyPem: string
  let certificatePem: string
  try {
    certificatePem = readFileSync(paths.certificate, 'utf8')
    certificate = forge.pki.certificateFromPem(certificatePem)
    privateKeyPem = readFileSync(paths.privateKey, 'utf8')
    // Read natively (~0.1 ms against forge's ~2.5): only to refuse a key that is not one.
    createPrivateKey(privateKeyPem)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EACCES') {
      throw new DevenvError(
        'TLS',
        `cannot read the local certificate authority in ${paths.dir}: permission denied (it belongs to another user)`,
        {
          hint: 'Run devenv as the user who made it, or set DEVENV_HOME to a folder of your own.',
        },
      )
    }
    throw new DevenvError(
      'TLS',
      `cannot read the local certificate authority in ${paths.dir}: ${(error as Error).message}`,
      {
        hint: `Remove ${paths.dir} to make a new one.`,
      },
    )
  }
  return describe(paths, certificatePem, certificate, privateKeyPem, false)
}

async function createCa(paths: CaPaths, dnsSubtrees: readonly string[]): Promise<LocalCa> {
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 })
  const keys = await generateRsaKeys()
  const certificate = forge.pki.createCertificate()
  certificate.publicKey = keys.publicKey
  certificate.serialNumber = randomSerial()
  const now = new Date()
  certificate.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000)
  certificate.validity.notAfter = new Date(now)
  certificate.validity.notAfter.setFullYear(now.getFullYear() + CA_YEARS)
  const name = [
    { name: 'commonName', value: `devenv local CA ${os.hostname()}`, valueTagClass: UTF8_STRING },
    { name: 'organizationName', value: 'devenv', valueTagClass: UTF8_STRING },
    { shortName: 'OU', value: `${os.userInfo().username}@${os.hostname()}`, valueTagClass: UTF8_STRING },
  ]
  certificate.setSubject(name)
  certificate.setIssuer(name)
  certificate.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
    nameConstraintsExtension(dnsSubtrees),
  ])
  const certificatePem = signForKey(certificate, keys.publicKeyDer, keys.privateKeyPem)
  // The key first: a certificate without its key would read as a broken CA.
  writeFileAtomic(paths.privateKey, keys.privateKeyPem, 0o600)
  writeFileAtomic(paths.certificate, certificatePem, 0o644)
  return describe(paths, certificatePem, forge.pki.certificateFromPem(certificatePem), keys.privateKeyPem, true)
}

function describe(
  paths: CaPaths,
  certificatePem: string,
  certificate: forge.pki.Certificate,
  privateKeyPem: string,
  created: boolean,
): LocalCa {
  const commonName = certificate.subject.getField('CN') as { value: string } | null
  return {
    paths,
    certificatePem,
    certificate,
    privateKeyPem,
    fingerprint: sha256Fingerprint(certificate),
    subject: commonName?.value ?? '',
    notAfter: certificate.validity.notAfter,
    created,
    permittedDns: permittedDnsSubtrees(certificate),
  }
}
