/** The public face of images: OCI images pulled, stored, unpacked, exported and committed without an engine. */
export { listImages, pruneImages, removeImage, type ImageSummary, type PruneResult } from './maintenance.js'
export { hostPlatform, type ImageConfig, type ImageRunConfig } from './media-types.js'
export { pullImage, requireImage, storedName, type PullEvent, type PullResult } from './pull.js'
export { formatImageReference, parseImageReference, type ImageReference } from '../util/image-reference.js'
export { ensureRootfs, imageOwners, type ImageOwners } from './rootfs.js'
export { imagesRoot, readConfig, readImageRecord, rootfsPath, type ImageRecord } from './store.js'
export { commitImage, type CommitResult } from './commit.js'
export { exportImage, importImage, type ExportResult, type ImportResult } from './layout.js'
