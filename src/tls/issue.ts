import { createHash } from 'node:crypto'
import { ipVersion } from '../util/ip-address.js'
import path from 'node:path'
import { DevenvError } from '../errors.js'
import { isWithin, wantedDnsSubtrees } from './name-policy.js'
import { caPaths } from './paths.js'
import { reuseVerified } from './verdict.js'
import type { IssuedCertificate } from './issued.js'

export type { IssuedCertificate } from './issued.js'

/** Issue a fresh certificate when the cached one expires sooner than this. */
const RENEW_BEFORE_MS = 30 * 24 * 60 * 60 * 1000
const DNS_NAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

export interface IssueOptions {
  /** DNS names (wildcards allowed) and IP addresses the certificate is for. */
  names: string[]
  /** Folder for the cached key and certificate (one subfolder per set of names). */
  cacheDir: string
  /** Machine home holding the CA (default: machineHome()). */
  home?: string
}

/** A key and certificate for `names`, signed by the machine's CA; reused while still valid for the same CA. */
export async function issueCertificate(options: IssueOptions): Promise<IssuedCertificate> {
  const names = [...new Set(options.names.map((name) => name.toLowerCase()))].sort()
  if (names.length === 0) throw new DevenvError('TLS', 'a certificate needs at least one hostname or address')
  const bad = names.filter((name) => !ipVersion(name) && !DNS_NAME.test(name))
  if (bad.length)
    throw new DevenvError(
      'TLS',
      `cannot issue a certificate for ${bad.map((name) => `"${name}"`).join(', ')}: not a hostname or an IP address`,
    )
  const folder = path.join(options.cacheDir, createHash('sha256').update(names.join(',')).digest('hex').slice(0, 16))
  const files = { certificate: path.join(folder, 'cert.pem'), privateKey: path.join(folder, 'key.pem') }
  const caFiles = caPaths(options.home)
  const wanted = wantedDnsSubtrees(options.home)
  const reused = names.every((name) => isWithin(name, wanted))
    ? reuseVerified(files, caFiles, wanted, RENEW_BEFORE_MS)
    : undefined
  if (reused)
    return {
      ...reused,
      certificateFile: files.certificate,
      privateKeyFile: files.privateKey,
      caFile: caFiles.certificate,
      names,
      issued: false,
    }
  return (await import('./leaf.js')).checkOrIssue(names, folder, files, RENEW_BEFORE_MS, options.home)
}
