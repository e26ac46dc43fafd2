export { assertIntegrity, describeCheck, verifyIntegrity } from './verify.js'
export { lockIntegrity } from './lock.js'
export type { FileCheck, FileStatus, IntegrityReport, LockResult, ServiceIntegrity } from './verify.js'
export { LOCKFILE_NAME, lockfilePath } from './lockfile.js'
