/** The public face of state: what other modules may use of it. */
export { allocateAddresses, readAddresses, releaseAddresses } from './addresses.js'
export { fsyncFolder, readJson, writeDerivedFile, writeFileAtomic, writeJsonAtomic } from './atomic.js'
export { withFileLock } from './lock.js'
export { ProjectPaths, machineHome } from './paths.js'
export {
  readProjectState,
  writeProjectState,
  writeProjectStateAsync,
  type PortState,
  type ProjectState,
  type ServiceHealth,
  type ServiceState,
} from './project-state.js'
export { knownProjects, rememberProject } from './projects.js'
export { forgetRuntimeChoice, readRuntimeChoice, writeRuntimeChoice } from './runtime-choice.js'
