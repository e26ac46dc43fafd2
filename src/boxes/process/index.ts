/** The public face of boxes/process: what other modules may use of it. */
export { processLaunch } from './driver.js'
