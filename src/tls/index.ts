export { ensureCa, readCa, type LocalCa } from './ca.js'
export { issueCertificate, type IssuedCertificate, type IssueOptions } from './issue.js'
export { caPaths, type CaPaths } from './paths.js'
export { installTrust, manualSteps, trustPlan, type TrustPlan, type TrustResult, type TrustSystem } from './trust.js'
