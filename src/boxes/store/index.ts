/** The machine-wide store of committed boxes: commit, list, remove, export to one file, import, seed. */
export { commitBox, listBoxes, removeBox, readBoxRecord, requireBox, resolveCommittedBox, seedServiceData, storeRoot, boxDir, type CommitOptions } from './store.js'
export { exportBox, importBox, DEFAULT_IMPORT_LIMITS, type ExportResult, type ImportResult, type ImportLimits } from './archive.js'
export { parseCommittedRef, formatRef, DEFAULT_TAG, type CommittedRef } from './refs.js'
export type { BoxRecord, BoxSummary, BoxRecipe } from './record.js'
