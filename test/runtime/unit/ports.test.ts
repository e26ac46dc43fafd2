import { spawn, type ChildProcess } from 'node:child_process'
import net from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { DevenvError } from '../../../src/errors.js'
import { checkBind, findPortHolder, planPorts } from '../../../src/runtime/bundled/ports.js'

// An address of the 127/8 block no project allocates (devenv uses 127.64.x.y and up).
const ADDRESS = '127.3.9.7'

async function freePortOn(address: string): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((resolve) => server.listen(0, address, resolve))
  const { port } = server.address() as net.AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

describe('planPorts', () => {
  const holders: ChildProcess[] = []
  afterEach(() => {
    for (const holder of holders.splice(0)) holder.kill('SIGKILL')
  })

  async function holdPort(address: string, port: number): Promise<ChildProcess> {
    const holder = spawn(
      process.execPath,
      ['-e', `require('net').createServer().listen(${port}, '${address}', () => console.log('ready'))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    )
    holders.push(holder)
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.once('data', () => resolve())
      holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)))
    })
    return holder
  }

  it("binds each declared port on the service's own address when it is free", async () => {
    const port = await freePortOn(ADDRESS)
    expect(await planPorts('www1', ADDRESS, [port], false)).toEqual([{ declared: port, bound: port, address: ADDRESS }])
  })

  it('on a shared 127.0.0.1, falls back to a free high port and says so', async () => {
    const plans = await planPorts('www1', '127.0.0.1', [8080, 5432], true)
    expect(plans).toHaveLength(2)
    for (const [index, declared] of [8080, 5432].entries()) {
      const plan = plans[index]!
      expect(plan.declared).toBe(declared)
      expect(plan.bound).toBeGreaterThan(1023)
      expect(plan.address).toBe('127.0.0.1')
      expect(plan.note).toBe(
        `services share 127.0.0.1 on this system: ${declared} is served on 127.0.0.1:${plan.bound}`,
      )
      expect(await checkBind('127.0.0.1', plan.bound)).toBe('free')
    }
  })

  it('a port another process holds is an error naming the port and that process', async () => {
    const port = await freePortOn(ADDRESS)
    const holder = await holdPort(ADDRESS, port)
    expect(findPortHolder(port)?.pid).toBe(holder.pid)
    const failure = await planPorts('www1', ADDRESS, [port], false).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DevenvError)
    expect((failure as DevenvError).code).toBe('PORT_IN_USE')
    expect((failure as DevenvError).message).toBe(
      `service www1: port ${port} on ${ADDRESS} is already in use by pid ${holder.pid} (${process.execPath} -e ${holder.spawnargs[2]})`,
    )
    expect((failure as DevenvError).hint).toContain(`kill ${holder.pid}`)
  })

  it('a wildcard listener (0.0.0.0) blocks the port on every loopback address too', async () => {
    const port = await freePortOn('0.0.0.0')
    const holder = await holdPort('0.0.0.0', port)
    await expect(planPorts('www1', ADDRESS, [port], false)).rejects.toThrow(`by pid ${holder.pid}`)
  })

  it('an address that cannot be bound is a clear error, not a crash', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to this machine.
    const failure = await planPorts('www1', '192.0.2.10', [8080], false).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(DevenvError)
    expect((failure as DevenvError).message).toMatch(/www1.*192\.0\.2\.10/)
  })
})
