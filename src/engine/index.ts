/** What commands drive: the runtime the envfile asks for (with the engine's preparation), and exec with a terminal. */
export { runtimeFor, projectActivity, runningElsewhere, serviceEndpoint } from './runtime.js'
export { runAttached } from './exec.js'
