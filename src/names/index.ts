/** Which hostnames a project may claim: special-use names by default, others with this machine's consent. */
export { allowedFile, changeAllowedHostname, readAllowedHostnames } from './allowed.js'
export {
  SPECIAL_USE_SUFFIXES,
  judgeDomain,
  judgeHostname,
  isNeverAllowed,
  isSpecialUse,
  type HostnameVerdict,
} from './policy.js'
