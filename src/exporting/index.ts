/** Beyond one machine: the envfile as a Compose file or Kubernetes objects. */
export { exportCompose, composeSchemaErrors, type ComposeResult } from './compose/index.js'
export {
  boxPlanner,
  buildBoxImageIfUsed,
  noBoxPlanner,
  type BoxContainerPlan,
  type BoxContainerPlanner,
  type ContainerMount,
} from './plan.js'
export { loadForExport } from './load.js'
export {
  exportKubernetes,
  kubernetesProblems,
  type KubernetesFile,
  type KubernetesObject,
  type KubernetesOptions,
  type KubernetesResult,
} from './kubernetes/index.js'
export {
  deploySwarm,
  stackServices,
  undeploySwarm,
  type DeployResult,
  type DockerTarget,
  type SwarmService,
} from './swarm/index.js'
