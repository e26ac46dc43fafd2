import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { ipVersion } from '../util/ip-address.js'
import path from 'node:path'
import forge from 'node-forge'
import { DevenvError } from '../errors.js'
import { writeFileAtomic } from '../state/index.js'
import { withFileLock } from '../state/index.js'
import { ensureCa, type LocalCa } from './ca.js'
import type { IssuedCertificate } from './issued.js'
import { generateLeafKey, randomSerial } from './keys.js'
import { UTF8_STRING } from './name-strings.js'
import { signForKey, subjectKeyIdentifierExtension } from './signing.js'
import { isWithin } from './name-policy.js'
import { recordVerdict, type LeafFiles } from './verdict.js'

/** Browsers refuse leaf certificates valid for longer than this (Apple: 825 days). */
const LEAF_DAYS = 825

/**
 * The full path of issueCertificate (node-forge, loaded only when it is needed): the CA made or
 * checked, the cached certificate parsed and checked against it, or a new one signed; either way
 * the verdict recorded for the next start.
 */
export async function checkOrIssue(
  names: string[],
  folder: string,
  files: LeafFiles,
  renewBeforeMs: number,
  home?: string,
): Promise<IssuedCertificate> {
  const ca = await ensureCa(home)
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
  return withFileLock(path.join(folder, 'issue'), () => {
    const cached = readCached(files, ca, renewBeforeMs)
    if (cached) {
      recordVerdict(files, ca.certificatePem, cached, ca.permittedDns ?? [])
      return { ...cached, caFile: ca.paths.certificate, names, issued: false }
    }
    const fresh = sign(names, ca)
    writeFileAtomic(files.privateKey, fresh.privateKeyPem, 0o600)
    writeFileAtomic(files.certificate, fresh.certificatePem, 0o644)
    recordVerdict(files, ca.certificatePem, fresh, ca.permittedDns ?? [])
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

/** The cached certificate if it is whole, its key's, signed by this CA and not about to expire (node's own X.509: RSA or EC). */
function readCached(files: LeafFiles, ca: LocalCa, renewBeforeMs: number): Cached | undefined {
  if (!existsSync(files.certificate) || !existsSync(files.privateKey)) return undefined
  try {
    const certificatePem = readFileSync(files.certificate, 'utf8')
    const privateKeyPem = readFileSync(files.privateKey, 'utf8')
    const certificate = new X509Certificate(certificatePem)
    const matchesKey = certificate.checkPrivateKey(createPrivateKey(privateKeyPem))
    // A CA made again (its folder removed) no longer vouches for certificates of the old one.
    const signedByCa = certificate.verify(createPublicKey(ca.certificatePem))
    const notAfter = new Date(certificate.validTo)
    const fresh = notAfter.getTime() - Date.now() > renewBeforeMs
    if (!matchesKey || !signedByCa || !fresh) return undefined
    return {
      certificateFile: files.certificate,
      privateKeyFile: files.privateKey,
      certificatePem,
      privateKeyPem,
      notAfter,
    }
  } catch {
    return undefined
  }
}

function sign(names: string[], ca: LocalCa): { certificatePem: string; privateKeyPem: string; notAfter: Date } {
  const key = generateLeafKey()
  const certificate = forge.pki.createCertificate()
  // Only so forge can encode the certificate: signForKey puts the leaf's own key in its place.
  certificate.publicKey = ca.certificate.publicKey
  certificate.serialNumber = randomSerial()
  const now = Date.now()
  certificate.validity.notBefore = new Date(now - 60 * 60 * 1000)
  certificate.validity.notAfter = new Date(now + LEAF_DAYS * 24 * 60 * 60 * 1000)
  const commonName = names.find((name) => !ipVersion(name)) ?? names[0]!
  certificate.setSubject([
    // UTF8String, not forge's PrintableString (name-strings.ts).
    { name: 'commonName', value: commonName, valueTagClass: UTF8_STRING },
    { name: 'organizationName', value: 'devenv', valueTagClass: UTF8_STRING },
  ])
  certificate.setIssuer(ca.certificate.subject.attributes)
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    // An ECDSA key signs (ECDHE) and never enciphers a key.
    { name: 'keyUsage', digitalSignature: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((name) => (ipVersion(name) ? { type: 7, ip: name } : { type: 2, value: name })),
    },
    subjectKeyIdentifierExtension(key.publicKeyDer),
    { name: 'authorityKeyIdentifier', keyIdentifier: ca.certificate.generateSubjectKeyIdentifier().getBytes() },
  ])
  return {
    certificatePem: signForKey(certificate, key.publicKeyDer, ca.privateKeyPem),
    privateKeyPem: key.privateKeyPem,
    notAfter: certificate.validity.notAfter,
  }
}
