import { generateKeyPairSync, randomBytes } from 'node:crypto'
import forge from 'node-forge'

/**
 * RSA 2048 keys come from node's native generator (milliseconds) rather than forge's pure-JS one
 * (seconds); forge can only sign X.509 certificates with RSA keys, hence not EC.
 */
export function generateRsaKeys(): forge.pki.rsa.KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  })
  const forgeKey = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e) }
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
