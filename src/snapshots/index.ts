/** Snapshots of a service's data folder: save, list, restore, delete, crash recovery. */
export { saveSnapshot, type SaveOptions } from './save.js'
export {
  restoreSnapshot,
  checkCompatible,
  RESTORE_CRASH_POINTS,
  type RestoreOptions,
  type RestoreResult,
} from './restore.js'
export { recoverServiceData, type RecoveryResult, type RecoveryAction } from './recover.js'
export { listSnapshots, deleteSnapshot } from './catalog.js'
export { saveSnapshotSet, restoreSnapshotSet, type SetMember } from './sets.js'
export { readManifest, type SnapshotInfo, type SnapshotManifest } from './manifest.js'
export { generatedSnapshotName, validateSnapshotName } from './names.js'
export { quiesceService, type Quiesce, type Resume } from './quiesce.js'
export { serviceBoxIdentity, type BoxIdentity } from './identity.js'
export {
  copyTree,
  syncTree,
  scanTree,
  summarise,
  treeChecksum,
  firstDifference,
  type TreeEntry,
  type TreeSummary,
} from '../util/tree.js'
export { statefulService, statefulNames, snapshotMember, allSnapshotMembers, serviceCopiesOf } from './project.js'
export { beginOperation } from './operation.js'
export { journalBase, newOperationId, removeJournal } from './journal.js'
export { formatBytes, formatTime } from '../util/format.js'
export { withServiceCopies, type OpenServiceCopies, type CopyRecord } from './service-copies.js'
