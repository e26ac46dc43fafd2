import forge from 'node-forge'

/**
 * X.509 name constraints (RFC 5280 §4.2.1.10) on the local CA: it can only ever sign for the
 * special-use names, localhost, the names this machine's user allowed (`devenv hosts allow`)
 * and loopback addresses, so that even its stolen key cannot vouch for a public site to the
 * programs that trust it. forge has no encoder for this extension; it is written as DER here.
 */
export const NAME_CONSTRAINTS_OID = '2.5.29.30'
/** 127.0.0.0/8: address and mask, as iPAddress subtrees are written. */
const LOOPBACK_SUBTREE = '\x7f\x00\x00\x00\xff\x00\x00\x00'

export function nameConstraintsExtension(dnsSubtrees: readonly string[]): {
  id: string
  critical: true
  value: forge.asn1.Asn1
} {
  const { asn1 } = forge
  const subtree = (base: forge.asn1.Asn1): forge.asn1.Asn1 =>
    asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [base])
  const permitted = [
    ...dnsSubtrees.map((name) => subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 2, false, name))),
    subtree(asn1.create(asn1.Class.CONTEXT_SPECIFIC, 7, false, LOOPBACK_SUBTREE)),
  ]
  return {
    id: NAME_CONSTRAINTS_OID,
    critical: true,
    value: asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
      asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, permitted),
    ]),
  }
}

/** The permitted DNS subtrees of a certificate; undefined when it has no name constraints at all. */
export function permittedDnsSubtrees(certificate: forge.pki.Certificate): string[] | undefined {
  const extension = (certificate.extensions as Array<{ id?: string; value?: string | forge.asn1.Asn1 }>).find(
    (candidate) => candidate.id === NAME_CONSTRAINTS_OID,
  )
  if (!extension?.value) return undefined
  try {
    // DER as read from a file; the ASN.1 object itself on a certificate made in this process
    const root = typeof extension.value === 'string' ? forge.asn1.fromDer(extension.value) : extension.value
    const permitted = (root.value as forge.asn1.Asn1[]).find(
      (part) => part.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && part.type === 0,
    )
    if (!permitted) return []
    return (permitted.value as forge.asn1.Asn1[]).flatMap((generalSubtree) => {
      const base = (generalSubtree.value as forge.asn1.Asn1[])[0]
      return base && base.tagClass === forge.asn1.Class.CONTEXT_SPECIFIC && base.type === 2 ? [String(base.value)] : []
    })
  } catch {
    return []
  }
}
