/** The public face of boxes: what other modules may use of it. */
export type { CopyRecord, PreparedSwap, Quiesce, Resume, ServiceCopies } from './capabilities.js'
export type { BoxDriver, Endpoint, Launch, ProbeResult, ServiceContext, UnprivilegedUser } from './driver.js'
export { capabilitiesOf, driverFor } from './registry.js'
