/** What follows from a resolved project (EnvSpec) alone: dependency order, a service's environment. */
export {
  checkNames,
  replicasOf,
  resolveServiceNames,
  startLayers,
  stopDependentsFirst,
  stopLayers,
  withDependencies,
  withDependents,
} from './graph.js'
export { fillRuntimeVariables, serviceEnvironment, type ServiceRuntimeInfo } from './service-env.js'
export { groupName, serviceGroups, type ServiceGroup } from './replica-groups.js'
export { withImagePorts, type ImagePortFacts } from './image-ports.js'
