/** The machine-wide store of committed boxes: commit, list, remove, export to one file, import, seed. */
import type { exportBox as exportBoxNow, importBox as importBoxNow } from './archive.js'

export {
  commitBox,
  listBoxes,
  removeBox,
  readBoxRecord,
  requireBox,
  resolveCommittedBox,
  seedServiceData,
  storeRoot,
  boxDir,
  type CommitOptions,
} from './store.js'
export type { ExportResult, ImportResult, ImportLimits } from './archive.js'
export { parseCommittedRef, formatRef, DEFAULT_TAG, type CommittedRef } from './refs.js'
export type { BoxRecord, BoxSummary, BoxRecipe } from './record.js'

// The archive code (tar, gzip) loads when a box is exported or imported, not with every command
// that reads an envfile (which resolves committed boxes through this module).
export const exportBox: typeof exportBoxNow = async (...args) => (await import('./archive.js')).exportBox(...args)
export const importBox: typeof importBoxNow = async (...args) => (await import('./archive.js')).importBox(...args)
