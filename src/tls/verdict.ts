import { createHash } from 'node:crypto'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { readJson, writeJsonAtomic } from '../state/index.js'
import type { CaPaths } from './paths.js'

/**
 * What the last full check of a cached certificate found (parsed, its key matched, signed by the
 * CA, the CA's constraints as wanted), recorded beside it. While none of those files changed, the
 * next start reuses the certificate without parsing anything: the full check is RSA in JavaScript
 * (node-forge), ~70 ms of CPU on every `up` of a project with an lb.
 */
export interface CertificateVerdict {
  caSha256: string
  certificateSha256: string
  privateKeySha256: string
  /** The DNS subtrees the CA was checked to permit, exactly. */
  permittedDns: string[]
  notAfter: string
}

export interface LeafFiles {
  certificate: string
  privateKey: string
}

function verdictFile(files: LeafFiles): string {
  return path.join(path.dirname(files.certificate), 'verified.json')
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex')
}

export interface ReusedLeaf {
  certificatePem: string
  privateKeyPem: string
  notAfter: Date
}

/**
 * The cached certificate when its verdict still holds: the same CA, certificate and key bytes,
 * the CA's constraints what this machine wants now, and far enough from expiry. Undefined sends
 * the caller to the full check.
 */
export function reuseVerified(
  files: LeafFiles,
  ca: CaPaths,
  wantedDns: readonly string[],
  renewBeforeMs: number,
): ReusedLeaf | undefined {
  const verdict = readJson<CertificateVerdict>(verdictFile(files))
  if (!verdict) return undefined
  try {
    // readCa makes a loose CA key private again; let it.
    if ((statSync(ca.privateKey).mode & 0o077) !== 0) return undefined
    const certificatePem = readFileSync(files.certificate, 'utf8')
    const privateKeyPem = readFileSync(files.privateKey, 'utf8')
    const notAfter = new Date(verdict.notAfter)
    const holds =
      sha256(readFileSync(ca.certificate, 'utf8')) === verdict.caSha256 &&
      sha256(certificatePem) === verdict.certificateSha256 &&
      sha256(privateKeyPem) === verdict.privateKeySha256 &&
      verdict.permittedDns.join(',') === [...wantedDns].sort().join(',') &&
      notAfter.getTime() - Date.now() > renewBeforeMs
    return holds ? { certificatePem, privateKeyPem, notAfter } : undefined
  } catch {
    return undefined
  }
}

export function recordVerdict(
  files: LeafFiles,
  caCertificatePem: string,
  leaf: ReusedLeaf,
  permittedDns: readonly string[],
): void {
  const verdict: CertificateVerdict = {
    caSha256: sha256(caCertificatePem),
    certificateSha256: sha256(leaf.certificatePem),
    privateKeySha256: sha256(leaf.privateKeyPem),
    permittedDns: [...permittedDns].sort(),
    notAfter: leaf.notAfter.toISOString(),
  }
  writeJsonAtomic(verdictFile(files), verdict)
}
