import forge from 'node-forge'

/**
 * Names in devenv's certificates are UTF8String. forge writes PrintableString by default, whose
 * alphabet lacks @ (the CA's OU is user@host), * and _, and Chrome refuses a certificate with such
 * a name: ERR_SSL_SERVER_CERT_BAD_FORMAT. (forge's types call the tag a Class; it is an ASN.1 type.)
 */
export const UTF8_STRING = forge.asn1.Type.UTF8 as unknown as forge.asn1.Class

const PRINTABLE_STRING = forge.asn1.Type.PRINTABLESTRING as unknown as forge.asn1.Class
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/

/** False when a PrintableString of the certificate's subject holds a character it may not. */
export function subjectWellFormed(certificate: forge.pki.Certificate): boolean {
  return certificate.subject.attributes.every(
    (attribute) => attribute.valueTagClass !== PRINTABLE_STRING || PRINTABLE.test(String(attribute.value)),
  )
}
