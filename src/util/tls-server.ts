/**
 * `ca` for a TLS server that asks for no client certificate: the authorities such a certificate
 * would be checked against, none. Without `ca`, node first fills the context with its ~140 bundled
 * public roots: 35-65 ms of CPU at every start of the lb and the mail box, for nothing.
 */
export const NO_CLIENT_CERTIFICATE_AUTHORITIES: string[] = []
