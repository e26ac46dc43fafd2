import { fromDist, runtimeContract } from './contract.js'

runtimeContract({
  name: 'bundled',
  async create(options) {
    const { createRuntime } = await fromDist<typeof import('../../src/runtime/index.js')>('runtime/index.js')
    return createRuntime('bundled', options)
  },
})
