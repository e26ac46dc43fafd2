import type { LocalCa } from './ca.js'
export type { LocalCa } from './ca.js'

/** The machine's CA, made on first use (ca.ts; node-forge is loaded only by what signs or parses). */
export async function ensureCa(home?: string): Promise<LocalCa> {
  return (await import('./ca.js')).ensureCa(home)
}
export { issueCertificate, type IssuedCertificate, type IssueOptions } from './issue.js'
export { caPaths, type CaPaths } from './paths.js'
export { installTrust, manualSteps, trustPlan, type TrustPlan, type TrustResult, type TrustSystem } from './trust.js'
export { trustAdvice, type TrustAdvice } from './advice.js'
