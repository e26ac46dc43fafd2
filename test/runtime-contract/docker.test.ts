import { fromDist, runtimeContract } from './contract.js'
import { dockerUnavailable } from '../support/docker.js'

runtimeContract({
  name: 'docker',
  unavailable: dockerUnavailable,
  async create(options) {
    const { createRuntime } = await fromDist<typeof import('../../src/runtime/index.js')>('runtime/index.js')
    return createRuntime('docker', options)
  },
})
