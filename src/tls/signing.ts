import { createHash, sign } from 'node:crypto'
import forge from 'node-forge'

/** RFC 5280 4.2.1.2 (1): the SHA-1 of the subjectPublicKey bits, as forge takes an extension's value. */
export function subjectKeyIdentifierExtension(publicKeyDer: Buffer): { id: string; value: forge.asn1.Asn1 } {
  const spki = forge.asn1.fromDer(publicKeyDer.toString('binary'))
  const bits = (spki.value as forge.asn1.Asn1[])[1]!.value as string
  const keyIdentifier = createHash('sha1')
    .update(Buffer.from(bits.slice(1), 'binary'))
    .digest()
    .toString('binary')
  return {
    id: '2.5.29.14',
    value: forge.asn1.create(forge.asn1.Class.UNIVERSAL, forge.asn1.Type.OCTETSTRING, false, keyIdentifier),
  }
}

/** In forge, not in its types. */
interface ForgeTbs {
  getTBSCertificate(certificate: forge.pki.Certificate): forge.asn1.Asn1
}

const TBS_PUBLIC_KEY_INDEX = 6 // version, serial, signature, issuer, validity, subject, subjectPublicKeyInfo

/**
 * PEM of `certificate` (everything set but its key, and an RSA `publicKey` forge needs to encode it)
 * for the key in `publicKeyDer` (RSA or EC), signed sha256WithRSAEncryption by `caKeyPem` with
 * node's native RSA: forge's pure-JS signature took 30–65 ms here, on the supervisor's main thread.
 */
export function signForKey(certificate: forge.pki.Certificate, publicKeyDer: Buffer, caKeyPem: string): string {
  certificate.signatureOid = forge.pki.oids.sha256WithRSAEncryption!
  certificate.siginfo.algorithmOid = forge.pki.oids.sha256WithRSAEncryption!
  const tbs = (forge.pki as unknown as ForgeTbs).getTBSCertificate(certificate)
  ;(tbs.value as forge.asn1.Asn1[])[TBS_PUBLIC_KEY_INDEX] = forge.asn1.fromDer(publicKeyDer.toString('binary'))
  const tbsDer = forge.asn1.toDer(tbs).getBytes()
  const signature = sign('sha256', Buffer.from(tbsDer, 'binary'), caKeyPem)
  const { Class, Type } = forge.asn1
  const der = forge.asn1.toDer(
    forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [
      tbs,
      forge.asn1.create(Class.UNIVERSAL, Type.SEQUENCE, true, [
        forge.asn1.create(
          Class.UNIVERSAL,
          Type.OID,
          false,
          forge.asn1.oidToDer(forge.pki.oids.sha256WithRSAEncryption!).getBytes(),
        ),
        forge.asn1.create(Class.UNIVERSAL, Type.NULL, false, ''),
      ]),
      forge.asn1.create(Class.UNIVERSAL, Type.BITSTRING, false, `\0${signature.toString('binary')}`),
    ]),
  )
  return forge.pem.encode({ type: 'CERTIFICATE', body: der.getBytes() }, { maxline: 64 })
}
