/** The public face of boxes/lb: what other modules may use of it. */
export { CONTROL_SIGNAL, readAck, writeControl } from './control.js'
