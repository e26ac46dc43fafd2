import { isIP } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ipVersion } from '../../../src/util/ip-address.js'

describe('ipVersion', () => {
  it('agrees with net.isIP on addresses, hostnames and junk', () => {
    for (const name of [
      '127.0.0.1',
      '10.1.2.3',
      '::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      'www.example.test',
      'localhost',
      '1.2.3',
      '1:2',
      '',
      'a:b:c',
    ])
      expect(ipVersion(name), name).toBe(isIP(name))
  })
})
