/** A leaf certificate issued (or reused) for a service. */
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
