import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { httpGet, RuntimeProject, service } from './helpers.js'

const asRoot = process.getuid?.() === 0

describe.skipIf(!asRoot)('mounts bound at their targets (root on Linux)', () => {
  let project: RuntimeProject

  beforeAll(async () => {
    project = new RuntimeProject('runtime-mounts')
    const up = await project.run(['up'])
    expect(up.exitCode, up.stderr).toBe(0)
  })

  afterAll(async () => {
    await project.cleanup()
  })

  it('the service reads its mount at the target path, which the host does not have', async () => {
    expect(existsSync('/devenv-test-mount')).toBe(false)
    const reader = service(await project.status(), 'reader')
    expect(reader.mounts).toBe('bind')
    const reply = await httpGet(reader.address, 8080, '/')
    expect(reply.status).toBe(200)
    expect(reply.body).toBe('hello through a bind mount\n')
  })

  it('exec runs inside the same mounts, and a read-only mount refuses writes', async () => {
    const seen = await project.run(['exec', 'reader', '--', 'cat', '/devenv-test-mount/greeting.txt'])
    expect(seen.exitCode, seen.stderr).toBe(0)
    const write = await project.run(['exec', 'reader', '--', 'sh', '-c', 'echo x > /devenv-test-mount/new.txt'])
    expect(write.exitCode).not.toBe(0)
    expect(existsSync('/devenv-test-mount')).toBe(false)
  })
})
