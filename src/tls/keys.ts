import { generateKeyPair, generateKeyPairSync, randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import forge from 'node-forge'

export interface RsaKeys {
  /** PKCS#1 PEM, as written to the key file. */
  privateKeyPem: string
  publicKey: forge.pki.rsa.PublicKey
  /** DER of the SubjectPublicKeyInfo. */
  publicKeyDer: Buffer
}

/**
 * The CA's RSA 2048 key comes from node's native generator on libuv's thread pool: forge's pure-JS
 * one takes seconds, and even the native one 65–440 ms here, which on the main thread stalled every
 * other service's start in the supervisor.
 */
export async function generateRsaKeys(): Promise<RsaKeys> {
  const { privateKey, publicKey } = await promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  })
  return {
    privateKeyPem: privateKey,
    publicKey: forge.pki.publicKeyFromAsn1(forge.asn1.fromDer(publicKey.toString('binary'))) as forge.pki.rsa.PublicKey,
    publicKeyDer: publicKey,
  }
}

/**
 * A leaf's key is ECDSA P-256, made in ~0.1 ms: an RSA-2048 key took 65–440 ms here (a search for
 * primes), on the critical path of every first `up` with an lb. Every TLS client in use accepts
 * P-256. The CA stays RSA, as forge (which reads and builds the certificates) only knows RSA keys.
 */
export interface LeafKey {
  /** PKCS#8 PEM, as written to the key file. */
  privateKeyPem: string
  /** DER of the SubjectPublicKeyInfo. */
  publicKeyDer: Buffer
}

export function generateLeafKey(): LeafKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', {
    namedCurve: 'P-256',
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  })
  return { privateKeyPem: privateKey, publicKeyDer: publicKey }
}

/** A random positive serial number: 16 bytes, top bit clear so DER does not read it as negative. */
export function randomSerial(): string {
  const bytes = randomBytes(16)
  bytes[0] = bytes[0]! & 0x7f
  return bytes.toString('hex')
}

export function sha256Fingerprint(certificate: forge.pki.Certificate): string {
  const der = forge.asn1.toDer(forge.pki.certificateToAsn1(certificate)).getBytes()
  const digest = forge.md.sha256.create().update(der).digest().toHex().toUpperCase()
  return digest.match(/../g)!.join(':')
}
