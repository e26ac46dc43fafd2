export { assertIntegrity, describeCheck, lockIntegrity, verifyIntegrity } from './verify.js'
export type { FileCheck, FileStatus, IntegrityReport, LockResult, ServiceIntegrity } from './verify.js'
export { LOCKFILE_NAME, lockfilePath } from './lockfile.js'
